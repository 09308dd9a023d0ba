"""The benchmark estate: `build(endpoint, scale)` fills an emulator and returns the ground truth.

Each scale unit adds the same realistic mix (about 100 resources over two regions): storage,
network, compute, identities, keys and application services, each defect beside good twins
that look like it. Account-wide settings are made once.
"""

from __future__ import annotations

from bench.peers.estate import account, apps, identity, network, storage
from bench.peers.estate._base import KINDS, Estate
from bench.peers.truth import GroundTruth

DEFAULT_REGIONS = ("us-east-1", "eu-west-1")

__all__ = ["DEFAULT_REGIONS", "KINDS", "build"]


def build(endpoint: str, scale: int, regions: tuple[str, ...] = DEFAULT_REGIONS) -> GroundTruth:
    """Builds an estate of `scale` units in the emulator at `endpoint`; returns its ground truth."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    e = Estate.open(endpoint, regions, scale)
    account.build_account(e)
    for unit in range(scale):
        storage.buckets(e, unit)
        storage.ebs(e, unit)
        groups = network.security_groups(e, unit)
        storage.rds(e, unit, groups["db-public"], groups["db-private"])
        storage.efs_and_dynamodb(e, unit)
        network.vpcs(e, unit)
        network.instances(e, unit)
        identity.users(e, unit)
        identity.policies_and_roles(e, unit)
        identity.kms_keys(e, unit)
        apps.functions(e, unit)
        apps.queues_and_topics(e, unit)
        apps.repositories(e, unit)
        apps.secrets(e, unit)
    return e.truth
