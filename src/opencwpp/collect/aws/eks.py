"""EKS clusters: API endpoint access, control plane logging, secrets encryption, version.

Three JSON lists a check would otherwise walk are split into rows at load:
`cwpp_aws_eks_cluster_public_access_cidrs` (the CIDRs allowed to the public endpoint),
`cwpp_aws_eks_cluster_log_types` (each control plane log type and whether it is on) and
`cwpp_aws_eks_cluster_encryption` (each resource kind encrypted with which KMS key).
A registered cluster's connector activation code (a one-time secret) is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import (
    Resource,
    Row,
    Rows,
    SessionContext,
    optional,
    paginate,
    register,
    strip_metadata,
)
from opencwpp.lake.schema import Table, table

CLUSTERS = table(
    "aws_eks_clusters",
    columns(
        """
        account_id region arn certificate_authority:json client_request_token
        connector_config:json created_at:ts encryption_config:json endpoint health:json id
        identity:json kubernetes_network_config:json logging:json name outpost_config:json
        platform_version resources_vpc_config:json role_arn status tags:json version
        """
    ),
    cq_id_from=["arn"],
)
PUBLIC_ACCESS_CIDRS = table(
    "cwpp_aws_eks_cluster_public_access_cidrs",
    columns("account_id region cluster_arn cidr"),
    cq_id_from=["cluster_arn", "cidr"],
    parent="aws_eks_clusters",
    indexes=[("cluster_arn",)],
    description="One row per CIDR allowed to reach an EKS cluster's public API endpoint.",
)
LOG_TYPES = table(
    "cwpp_aws_eks_cluster_log_types",
    columns("account_id region cluster_arn log_type enabled:bool"),
    cq_id_from=["cluster_arn", "log_type"],
    parent="aws_eks_clusters",
    indexes=[("cluster_arn",)],
    description="One row per control plane log type of an EKS cluster, enabled or not.",
)
ENCRYPTION = table(
    "cwpp_aws_eks_cluster_encryption",
    columns("account_id region cluster_arn resource key_arn"),
    cq_id_from=["cluster_arn", "resource"],
    parent="aws_eks_clusters",
    indexes=[("cluster_arn",)],
    description="One row per resource kind (secrets) an EKS cluster envelope-encrypts with KMS.",
)
TABLES = (CLUSTERS, PUBLIC_ACCESS_CIDRS, LOG_TYPES, ENCRYPTION)
_GONE = frozenset({"ResourceNotFoundException"})


def _child(tbl: Table, parent: Row, **values: Any) -> Row:
    row: Row = {
        "account_id": parent["account_id"],
        "region": parent["region"],
        "cluster_arn": parent["arn"],
        **values,
    }
    return with_ids(tbl, row, parent)


def derived_rows(parent: Row, cluster: Mapping[str, Any]) -> Rows:
    """The CIDR, log type and encryption rows of one cluster (from the API's camelCase)."""
    out = empty([PUBLIC_ACCESS_CIDRS, LOG_TYPES, ENCRYPTION])
    vpc = cluster.get("resourcesVpcConfig") or {}
    for cidr in dict.fromkeys(vpc.get("publicAccessCidrs") or []):
        out[PUBLIC_ACCESS_CIDRS].append(_child(PUBLIC_ACCESS_CIDRS, parent, cidr=str(cidr)))
    types: dict[str, bool] = {}
    for setup in (cluster.get("logging") or {}).get("clusterLogging") or []:
        for log_type in setup.get("types") or []:
            # A type listed as enabled anywhere is on.
            types[str(log_type)] = types.get(str(log_type), False) or bool(setup.get("enabled"))
    for log_type, enabled in types.items():
        out[LOG_TYPES].append(_child(LOG_TYPES, parent, log_type=log_type, enabled=enabled))
    seen: set[str] = set()
    for config in cluster.get("encryptionConfig") or []:
        key_arn = (config.get("provider") or {}).get("keyArn")
        for resource in config.get("resources") or []:
            if str(resource) not in seen:
                seen.add(str(resource))
                out[ENCRYPTION].append(
                    _child(ENCRYPTION, parent, resource=str(resource), key_arn=key_arn)
                )
    return out


def transform_cluster(account_id: str, region: str, cluster: Mapping[str, Any]) -> Rows:
    """The cluster row (connector activation code dropped) and its derived rows."""
    raw = dict(cluster)
    connector = raw.get("connectorConfig")
    if isinstance(connector, Mapping):
        raw["connectorConfig"] = {k: v for k, v in connector.items() if k != "activationCode"}
    row = shape(
        CLUSTERS,
        raw,
        pascal_json=True,
        account_id=account_id,
        region=region,
        arn=raw["arn"],
        tags=raw.get("tags") or {},
    )
    parent = with_ids(CLUSTERS, row)
    return extend({CLUSTERS: [parent]}, derived_rows(parent, raw))


def fetch_clusters(ctx: SessionContext, region: str | None) -> Rows:
    """Every EKS cluster of one region."""
    region = need_region("eks.clusters", region)
    eks = ctx.client("eks", region)
    out = empty(TABLES)
    for name in paginate(eks, "list_clusters", "clusters"):
        answer = optional(eks.describe_cluster, absent=_GONE, name=name)
        if answer is None:
            continue  # deleted since the listing
        cluster = strip_metadata(answer)["cluster"]
        extend(out, transform_cluster(ctx.account_id, region, cluster))
    return out


register(
    Resource(
        name="eks.clusters",
        service="eks",
        tables=TABLES,
        permissions=("eks:ListClusters", "eks:DescribeCluster"),
        fetch=fetch_clusters,
        description="EKS clusters: endpoint access, logging, secrets encryption, version.",
    )
)
