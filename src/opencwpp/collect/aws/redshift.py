"""Redshift provisioned clusters: encryption, public access, audit logging, parameters.

Each cluster row carries its logging status (DescribeLoggingStatus). Its parameter group is a
child row, and the group's parameters (`require_ssl`, `enable_user_activity_logging` ...) are
rows of `aws_redshift_cluster_parameters` keyed by the cluster, as CloudQuery has them; a group
shared by several clusters is read once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opencwpp.collect.aws._shape import arn, columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import (
    Resource,
    Row,
    Rows,
    SessionContext,
    paginate,
    register,
    strip_metadata,
)
from opencwpp.lake.schema import table

CLUSTERS = table(
    "aws_redshift_clusters",
    columns(
        """
        account_id region arn logging_status:json tags:json allow_version_upgrade:bool
        aqua_configuration:json automated_snapshot_retention_period:int availability_zone
        availability_zone_relocation_status cluster_availability_status cluster_create_time:ts
        cluster_identifier cluster_namespace_arn cluster_nodes:json cluster_public_key
        cluster_revision_number cluster_security_groups:json cluster_snapshot_copy_status:json
        cluster_status cluster_subnet_group_name cluster_version custom_domain_certificate_arn
        custom_domain_certificate_expiry_date:ts custom_domain_name db_name
        data_transfer_progress:json default_iam_role_arn deferred_maintenance_windows:json
        elastic_ip_status:json elastic_resize_number_of_node_options encrypted:bool
        endpoint:json enhanced_vpc_routing:bool expected_next_snapshot_schedule_time:ts
        expected_next_snapshot_schedule_time_status hsm_status:json iam_roles:json
        ip_address_type kms_key_id maintenance_track_name manual_snapshot_retention_period:int
        master_password_secret_arn master_password_secret_kms_key_id master_username modify_status
        multi_az
        multi_az_secondary:json next_maintenance_window_start_time:ts node_type
        number_of_nodes:int pending_actions:list pending_modified_values:json
        preferred_maintenance_window publicly_accessible:bool reserved_node_exchange_status:json
        resize_info:json restore_status:json snapshot_schedule_identifier
        snapshot_schedule_state total_storage_capacity_in_mega_bytes:int vpc_id
        vpc_security_groups:json
        """
    ),
    cq_id_from=["arn"],
)
PARAMETER_GROUPS = table(
    "aws_redshift_cluster_parameter_groups",
    columns(
        """
        account_id region cluster_arn cluster_parameter_status_list:json parameter_apply_status
        parameter_group_name
        """
    ),
    cq_id_from=["cluster_arn", "parameter_group_name"],
    parent="aws_redshift_clusters",
)
PARAMETERS = table(
    "aws_redshift_cluster_parameters",
    columns(
        """
        account_id region cluster_arn allowed_values apply_type data_type description
        is_modifiable:bool minimum_engine_version parameter_name parameter_value source
        """
    ),
    cq_id_from=["cluster_arn", "parameter_name"],
    parent="aws_redshift_cluster_parameter_groups",
)
TABLES = (CLUSTERS, PARAMETER_GROUPS, PARAMETERS)


def cluster_arn(account_id: str, region: str, identifier: str) -> str:
    """The ARN of a provisioned cluster."""
    return arn("redshift", region, account_id, f"cluster:{identifier}")


def transform_cluster(
    account_id: str,
    region: str,
    cluster: Mapping[str, Any],
    logging_status: Mapping[str, Any] | None,
    parameters: Mapping[str, Iterable[Mapping[str, Any]]],
) -> Rows:
    """The cluster row, its parameter group rows and their parameters (`parameters` by group)."""
    c_arn = cluster_arn(account_id, region, str(cluster["ClusterIdentifier"]))
    row = shape(
        CLUSTERS,
        cluster,
        account_id=account_id,
        region=region,
        arn=c_arn,
        logging_status=dict(logging_status) if logging_status is not None else None,
    )
    parent = with_ids(CLUSTERS, row)
    out = empty(TABLES)
    out[CLUSTERS].append(parent)
    for group in cluster.get("ClusterParameterGroups") or []:
        group_row = shape(
            PARAMETER_GROUPS, group, account_id=account_id, region=region, cluster_arn=c_arn
        )
        group_row = with_ids(PARAMETER_GROUPS, group_row, parent)
        out[PARAMETER_GROUPS].append(group_row)
        for parameter in parameters.get(str(group.get("ParameterGroupName")), []):
            param: Row = shape(
                PARAMETERS, parameter, account_id=account_id, region=region, cluster_arn=c_arn
            )
            out[PARAMETERS].append(with_ids(PARAMETERS, param, group_row))
    return out


def fetch_clusters(ctx: SessionContext, region: str | None) -> Rows:
    """Every provisioned cluster of one region with logging status and parameters."""
    region = need_region("redshift.clusters", region)
    rs = ctx.client("redshift", region)
    out = empty(TABLES)
    cache: dict[str, list[dict[str, Any]]] = {}
    for cluster in paginate(rs, "describe_clusters", "Clusters"):
        identifier = cluster["ClusterIdentifier"]
        logging_status = strip_metadata(rs.describe_logging_status(ClusterIdentifier=identifier))
        for group in cluster.get("ClusterParameterGroups") or []:
            name = str(group.get("ParameterGroupName"))
            if name not in cache:
                cache[name] = paginate(
                    rs, "describe_cluster_parameters", "Parameters", ParameterGroupName=name
                )
        extend(out, transform_cluster(ctx.account_id, region, cluster, logging_status, cache))
    return out


register(
    Resource(
        name="redshift.clusters",
        service="redshift",
        tables=TABLES,
        permissions=(
            "redshift:DescribeClusters",
            "redshift:DescribeLoggingStatus",
            "redshift:DescribeClusterParameters",
        ),
        fetch=fetch_clusters,
        description="Redshift clusters: encryption, public access, audit logging, parameters.",
    )
)
