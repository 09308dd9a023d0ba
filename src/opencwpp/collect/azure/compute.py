"""Managed disks, snapshots, virtual machines and their extensions.

Disks and snapshots carry their encryption (platform or customer-managed key), network access
policy (`AllowAll` lets anyone holding a SAS URL export them), public network access and state
(`Unattached`, `ActiveSAS`). VMs carry their managed identity, OS disk and security profile
(encryption at host); their public IPs are found through the network interfaces
(`collect.azure.network`). CloudQuery has no snapshot table: ours is `cwpp_azure_compute_snapshots`,
with the disk table's columns.

VM extension settings are public configuration, yet scripts and commands put secrets there
(a `commandToExecute` with a password in it): values under secret-looking keys are replaced by
`<redacted>` before they reach the lake. Protected settings are never returned by ARM and are
dropped all the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opencwpp.collect.azure import _clients
from opencwpp.collect.azure.base import (
    AzureResource,
    Row,
    Rows,
    list_raw,
    register,
    resource_group_of,
    with_ids,
)
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import JSON, LIST_UTF8, table

DISKS = table(
    "azure_compute_disks",
    [
        "subscription_id",
        "location",
        ("extended_location", JSON),
        ("properties", JSON),
        ("sku", JSON),
        ("tags", JSON),
        ("zones", LIST_UTF8),
        "id",
        "managed_by",
        ("managed_by_extended", LIST_UTF8),
        "name",
        "type",
    ],
)
SNAPSHOTS = table(
    "cwpp_azure_compute_snapshots",
    [
        "subscription_id",
        "location",
        ("extended_location", JSON),
        ("properties", JSON),
        ("sku", JSON),
        ("tags", JSON),
        "id",
        "managed_by",
        "name",
        "type",
    ],
    description="Managed disk snapshots (CloudQuery has no table for them): encryption, "
    "network access policy, public network access, source disk.",
)
VIRTUAL_MACHINES = table(
    "azure_compute_virtual_machines",
    [
        "subscription_id",
        ("instance_view", JSON),
        "location",
        ("extended_location", JSON),
        ("identity", JSON),
        ("plan", JSON),
        ("properties", JSON),
        ("tags", JSON),
        ("zones", LIST_UTF8),
        "id",
        "name",
        ("resources", JSON),
        "type",
    ],
)
EXTENSIONS = table(
    "azure_compute_virtual_machine_extensions",
    [
        "subscription_id",
        "location",
        ("properties", JSON),
        ("tags", JSON),
        "id",
        "name",
        "type",
    ],
    parent="azure_compute_virtual_machines",
)
READ_VMS = "Microsoft.Compute/virtualMachines/read"
REDACTED = "<redacted>"
# Setting names whose values may carry secrets (commands, scripts, keys, passwords, SAS URLs).
_SECRET_KEY = re.compile(
    r"command|script|password|passwd|secret|token|key|credential|connectionstring|sas|uri|url",
    re.IGNORECASE,
)


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def transform_disk(subscription_id: str, item: Mapping[str, Any], *, snapshot: bool = False) -> Row:
    """A managed disk or snapshot (REST JSON of Disks/Snapshots - List) as a row."""
    row: Row = {
        "subscription_id": subscription_id,
        "location": item.get("location"),
        "extended_location": item.get("extendedLocation"),
        "properties": item.get("properties") or {},
        "sku": item.get("sku"),
        "tags": item.get("tags") or {},
        "id": item.get("id"),
        "managed_by": item.get("managedBy"),
        "name": item.get("name"),
        "type": item.get("type"),
    }
    if not snapshot:
        row["zones"] = _strings(item.get("zones"))
        row["managed_by_extended"] = _strings(item.get("managedByExtended"))
    return with_ids(row)


def transform_vm(subscription_id: str, item: Mapping[str, Any]) -> Row:
    """A virtual machine (REST JSON of Virtual Machines - List All) as a row.

    The instance view is not requested (one more call per VM); `resources` keeps the extension
    references the list returns, with their settings redacted like the extension rows.
    """
    resources = item.get("resources")
    row: Row = {
        "subscription_id": subscription_id,
        "instance_view": None,
        "location": item.get("location"),
        "extended_location": item.get("extendedLocation"),
        "identity": item.get("identity"),
        "plan": item.get("plan"),
        "properties": item.get("properties") or {},
        "tags": item.get("tags") or {},
        "zones": _strings(item.get("zones")),
        "id": item.get("id"),
        "name": item.get("name"),
        "resources": [_scrub_extension(r) for r in resources if isinstance(r, Mapping)]
        if isinstance(resources, list)
        else None,
        "type": item.get("type"),
    }
    return with_ids(row)


def redact_settings(value: Any) -> Any:
    """Extension settings with every value under a secret-looking key replaced, at any depth."""
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if _SECRET_KEY.search(str(k)) else redact_settings(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_settings(v) for v in value]
    return value


def _scrub_extension(item: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(item)
    props = {k: v for k, v in (item.get("properties") or {}).items() if k != "protectedSettings"}
    if "settings" in props:
        props["settings"] = redact_settings(props["settings"])
    if "properties" in item:
        out["properties"] = props
    return out


def transform_extension(subscription_id: str, vm: Row, item: Mapping[str, Any]) -> Row:
    """A VM extension (REST JSON) as a child row of its VM, settings redacted."""
    scrubbed = _scrub_extension(item)
    row: Row = {
        "subscription_id": subscription_id,
        "location": item.get("location") or vm.get("location"),
        "properties": scrubbed.get("properties") or {},
        "tags": item.get("tags") or {},
        "id": item.get("id"),
        "name": item.get("name"),
        "type": item.get("type"),
    }
    return with_ids(row, parent=vm)


def virtual_machines(sub: SubscriptionContext) -> list[Row]:
    """The subscription's VMs as rows, listed once for the VM and extension units."""

    def load() -> list[Row]:
        items = list_raw(_clients.compute(sub).virtual_machines.list_all)
        return [transform_vm(sub.subscription_id, item) for item in items]

    return sub.shared("virtual_machines", load)


def fetch_disks(sub: SubscriptionContext) -> Rows:
    """Managed disks of the subscription."""
    items = list_raw(_clients.compute(sub).disks.list)
    return {DISKS: [transform_disk(sub.subscription_id, i) for i in items]}


def fetch_snapshots(sub: SubscriptionContext) -> Rows:
    """Managed disk snapshots of the subscription."""
    items = list_raw(_clients.compute(sub).snapshots.list)
    return {SNAPSHOTS: [transform_disk(sub.subscription_id, i, snapshot=True) for i in items]}


def fetch_virtual_machines(sub: SubscriptionContext) -> Rows:
    """Virtual machines of the subscription."""
    return {VIRTUAL_MACHINES: [dict(vm) for vm in virtual_machines(sub)]}


def fetch_extensions(sub: SubscriptionContext) -> Rows:
    """The extensions installed on every VM (settings redacted)."""
    operations = _clients.compute(sub).virtual_machine_extensions
    rows: list[Row] = []
    for vm in virtual_machines(sub):
        group = resource_group_of(str(vm["id"]))
        body = _clients.call_raw(operations.list, group, vm["name"])
        rows += [
            transform_extension(sub.subscription_id, vm, item)
            for item in body.get("value") or []
            if isinstance(item, Mapping)
        ]
    return {EXTENSIONS: rows}


register(
    AzureResource(
        name="compute.disks",
        service="compute",
        tables=(DISKS,),
        permissions=("Microsoft.Compute/disks/read",),
        fetch=fetch_disks,
        description="Managed disks: encryption, network access policy, state, owner VM.",
    )
)
register(
    AzureResource(
        name="compute.snapshots",
        service="compute",
        tables=(SNAPSHOTS,),
        permissions=("Microsoft.Compute/snapshots/read",),
        fetch=fetch_snapshots,
        description="Disk snapshots: encryption, network access policy, public network access.",
    )
)
register(
    AzureResource(
        name="compute.virtual_machines",
        service="compute",
        tables=(VIRTUAL_MACHINES,),
        permissions=(READ_VMS,),
        fetch=fetch_virtual_machines,
        description="Virtual machines: managed identity, disks, security profile, NICs.",
    )
)
register(
    AzureResource(
        name="compute.virtual_machine_extensions",
        service="compute",
        tables=(EXTENSIONS,),
        permissions=(READ_VMS, "Microsoft.Compute/virtualMachines/extensions/read"),
        fetch=fetch_extensions,
        description="VM extensions (publisher, type, version, auto-upgrade); settings redacted.",
    )
)
