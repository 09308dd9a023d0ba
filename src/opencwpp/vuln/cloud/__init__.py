"""Cloud workloads: fetch what runs in the cloud (Lambda code), scan it, key it to the resource."""
