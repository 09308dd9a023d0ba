"""ECS clusters and their services (launch type, public IP assignment, task definition, role).

ECS answers in camelCase; JSON columns get PascalCase keys, as CloudQuery's Go SDK structures
have them. Task definitions (and their redacted container environment) live in
`ecs_task_definitions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

CLUSTERS = table(
    "aws_ecs_clusters",
    columns(
        """
        account_id region arn tags:json active_services_count:int attachments:json
        attachments_status capacity_providers:list cluster_arn cluster_name configuration:json
        default_capacity_provider_strategy:json pending_tasks_count:int
        registered_container_instances_count:int running_tasks_count:int
        service_connect_defaults:json settings:json statistics:json status
        """
    ),
    cq_id_from=["arn"],
)
SERVICES = table(
    "aws_ecs_cluster_services",
    columns(
        """
        account_id region arn tags:json capacity_provider_strategy:json cluster_arn created_at:ts
        created_by deployment_configuration:json deployment_controller:json deployments:json
        desired_count:int enable_ecs_managed_tags:bool enable_execute_command:bool events:json
        health_check_grace_period_seconds:int launch_type load_balancers:json
        network_configuration:json pending_count:int placement_constraints:json
        placement_strategy:json platform_family platform_version propagate_tags role_arn
        running_count:int scheduling_strategy service_arn service_name service_registries:json
        status task_definition task_sets:json
        """
    ),
    cq_id_from=["arn", "cluster_arn"],
    parent="aws_ecs_clusters",
)
CLUSTER_INCLUDE = ["ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS"]
DESCRIBE_CLUSTERS_MAX = 100
DESCRIBE_SERVICES_MAX = 10


def chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    """`items` in lists of at most `size` (the Describe* batch limits)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def transform_cluster(
    account_id: str,
    region: str,
    cluster: Mapping[str, Any],
    services: Iterable[Mapping[str, Any]] = (),
) -> Rows:
    """The row of one cluster and one row per service of it."""
    parent = with_ids(
        CLUSTERS,
        shape(
            CLUSTERS,
            cluster,
            pascal_json=True,
            account_id=account_id,
            region=region,
            arn=cluster["clusterArn"],
        ),
    )
    rows: list[Row] = []
    for service in services:
        row = shape(
            SERVICES,
            service,
            pascal_json=True,
            account_id=account_id,
            region=region,
            arn=service["serviceArn"],
            cluster_arn=service.get("clusterArn") or cluster["clusterArn"],
        )
        rows.append(with_ids(SERVICES, row, parent))
    return {CLUSTERS: [parent], SERVICES: rows}


def _services(ecs: Any, cluster_arn: str) -> list[dict[str, Any]]:
    arns = paginate(ecs, "list_services", "serviceArns", cluster=cluster_arn)
    found: list[dict[str, Any]] = []
    for batch in chunks(arns, DESCRIBE_SERVICES_MAX):
        answer = ecs.describe_services(cluster=cluster_arn, services=batch, include=["TAGS"])
        found += answer.get("services", [])
    return found


def fetch_clusters(ctx: SessionContext, region: str | None) -> Rows:
    """Every cluster of one region with its services."""
    region = need_region("ecs.clusters", region)
    ecs = ctx.client("ecs", region)
    out = empty([CLUSTERS, SERVICES])
    arns = paginate(ecs, "list_clusters", "clusterArns")
    for batch in chunks(arns, DESCRIBE_CLUSTERS_MAX):
        answer = ecs.describe_clusters(clusters=batch, include=CLUSTER_INCLUDE)
        for cluster in answer.get("clusters", []):
            services = _services(ecs, cluster["clusterArn"])
            extend(out, transform_cluster(ctx.account_id, region, cluster, services))
    return out


register(
    Resource(
        name="ecs.clusters",
        service="ecs",
        tables=(CLUSTERS, SERVICES),
        permissions=(
            "ecs:ListClusters",
            "ecs:DescribeClusters",
            "ecs:ListServices",
            "ecs:DescribeServices",
        ),
        fetch=fetch_clusters,
        description="ECS clusters (settings, capacity providers) and their services.",
    )
)
