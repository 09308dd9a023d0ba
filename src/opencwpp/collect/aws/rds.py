"""RDS: DB instances, Aurora clusters, and their snapshots with who may restore them.

A snapshot's `restore` attribute lists the accounts allowed to restore it; `all` means public.
It is stored in the snapshot's `attributes` column, as CloudQuery does, and split into
`cwpp_aws_resource_shares` rows; an instance's VPC security groups become rows of
`cwpp_aws_rds_instance_security_groups`, so checks never walk the JSON lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, need_region, shape, with_ids
from opencwpp.collect.aws._shares import RESOURCE_SHARES, rds_shares
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import Table, cq_id, table

INSTANCES = table(
    "aws_rds_instances",
    columns(
        """
        account_id region arn processor_features:json tags:json
        activity_stream_engine_native_audit_fields_included:bool
        activity_stream_kinesis_stream_name activity_stream_kms_key_id activity_stream_mode
        activity_stream_policy_status activity_stream_status allocated_storage:int
        associated_roles:json auto_minor_version_upgrade:bool automatic_restart_time:ts
        automation_mode availability_zone aws_backup_recovery_point_arn
        backup_retention_period:int backup_target ca_certificate_identifier
        certificate_details:json character_set_name copy_tags_to_snapshot:bool
        custom_iam_instance_profile customer_owned_ip_enabled:bool db_cluster_identifier
        db_instance_arn db_instance_automated_backups_replications:json db_instance_class
        db_instance_identifier db_instance_status db_name db_parameter_groups:json
        db_security_groups:json db_subnet_group:json db_system_id db_instance_port:int
        dbi_resource_id dedicated_log_volume:bool deletion_protection:bool domain_memberships:json
        enabled_cloudwatch_logs_exports:list endpoint:json engine engine_version
        enhanced_monitoring_resource_arn iam_database_authentication_enabled:bool
        instance_create_time:ts iops:int is_storage_config_upgrade_available:bool kms_key_id
        latest_restorable_time:ts license_model listener_endpoint:json master_user_secret:json
        master_username max_allocated_storage:int monitoring_interval:int monitoring_role_arn
        multi_az:bool multi_tenant:bool nchar_character_set_name network_type
        option_group_memberships:json pending_modified_values:json percent_progress
        performance_insights_enabled:bool performance_insights_kms_key_id
        performance_insights_retention_period:int preferred_backup_window
        preferred_maintenance_window promotion_tier:int publicly_accessible:bool
        read_replica_db_cluster_identifiers:list read_replica_db_instance_identifiers:list
        read_replica_source_db_cluster_identifier read_replica_source_db_instance_identifier
        replica_mode resume_full_automation_mode_time:ts secondary_availability_zone
        status_infos:json storage_encrypted:bool storage_throughput:int storage_type
        tde_credential_arn timezone vpc_security_groups:json
        """
    ),
    cq_id_from=["arn"],
)
CLUSTERS = table(
    "aws_rds_clusters",
    columns(
        """
        account_id region arn tags:json activity_stream_kinesis_stream_name
        activity_stream_kms_key_id activity_stream_mode activity_stream_status
        allocated_storage:int associated_roles:json auto_minor_version_upgrade:bool
        automatic_restart_time:ts availability_zones:list aws_backup_recovery_point_arn
        backtrack_consumed_change_records:int backtrack_window:int backup_retention_period:int
        capacity:int character_set_name clone_group_id cluster_create_time:ts
        copy_tags_to_snapshot:bool cross_account_clone:bool custom_endpoints:list db_cluster_arn
        db_cluster_identifier db_cluster_instance_class db_cluster_members:json
        db_cluster_option_group_memberships:json db_cluster_parameter_group db_subnet_group
        db_system_id database_name db_cluster_resource_id deletion_protection:bool
        domain_memberships:json earliest_backtrack_time:ts earliest_restorable_time:ts
        enabled_cloudwatch_logs_exports:list endpoint engine engine_mode engine_version
        global_write_forwarding_requested:bool global_write_forwarding_status hosted_zone_id
        http_endpoint_enabled:bool iam_database_authentication_enabled:bool
        io_optimized_next_allowed_modification_time:ts iops:int kms_key_id
        latest_restorable_time:ts local_write_forwarding_status master_user_secret:json
        master_username monitoring_interval:int monitoring_role_arn multi_az:bool network_type
        pending_modified_values:json percent_progress performance_insights_enabled:bool
        performance_insights_kms_key_id performance_insights_retention_period:int port:int
        preferred_backup_window preferred_maintenance_window publicly_accessible:bool
        rds_custom_cluster_configuration:json read_replica_identifiers:list reader_endpoint
        replication_source_identifier scaling_configuration_info:json
        serverless_v2_scaling_configuration:json status status_infos:json storage_encrypted:bool
        storage_type vpc_security_groups:json
        """
    ),
    cq_id_from=["arn"],
)
DB_SNAPSHOTS = table(
    "aws_rds_db_snapshots",
    columns(
        """
        account_id region arn tags:json attributes:json allocated_storage:int availability_zone
        db_instance_identifier db_snapshot_arn db_snapshot_identifier db_system_id dbi_resource_id
        dedicated_log_volume:bool encrypted:bool engine engine_version
        iam_database_authentication_enabled:bool instance_create_time:ts iops:int kms_key_id
        license_model master_username multi_tenant:bool option_group_name
        original_snapshot_create_time:ts percent_progress:int port:int processor_features:json
        snapshot_create_time:ts snapshot_database_time:ts snapshot_target snapshot_type
        source_db_snapshot_identifier source_region status storage_throughput:int storage_type
        tde_credential_arn timezone vpc_id
        """
    ),
    cq_id_from=["arn"],
)
CLUSTER_SNAPSHOTS = table(
    "aws_rds_cluster_snapshots",
    columns(
        """
        account_id region arn tags:json attributes:json allocated_storage:int
        availability_zones:list cluster_create_time:ts db_cluster_identifier
        db_cluster_snapshot_arn db_cluster_snapshot_identifier db_system_id db_cluster_resource_id
        engine engine_mode engine_version iam_database_authentication_enabled:bool kms_key_id
        license_model master_username percent_progress:int port:int snapshot_create_time:ts
        snapshot_type source_db_cluster_snapshot_arn status storage_encrypted:bool storage_type
        vpc_id
        """
    ),
    cq_id_from=["arn"],
)

INSTANCE_SECURITY_GROUPS = table(
    "cwpp_aws_rds_instance_security_groups",
    columns("account_id region db_instance_arn group_id status"),
    cq_id_from=["db_instance_arn", "group_id"],
    parent="aws_rds_instances",
    indexes=[("db_instance_arn",), ("group_id",)],
    description="One row per VPC security group of an RDS DB instance.",
)


@dataclass(frozen=True, slots=True)
class _Kind:
    """How one RDS resource kind is listed, named and (for snapshots) shared."""

    table: Table
    operation: str
    key: str
    arn_field: str
    attributes_operation: str = ""
    id_field: str = ""
    derived: tuple[Table, ...] = ()


_INSTANCES = _Kind(
    INSTANCES,
    "describe_db_instances",
    "DBInstances",
    "DBInstanceArn",
    derived=(INSTANCE_SECURITY_GROUPS,),
)
_CLUSTERS = _Kind(CLUSTERS, "describe_db_clusters", "DBClusters", "DBClusterArn")
_DB_SNAPSHOTS = _Kind(
    DB_SNAPSHOTS,
    "describe_db_snapshots",
    "DBSnapshots",
    "DBSnapshotArn",
    "describe_db_snapshot_attributes",
    "DBSnapshotIdentifier",
    derived=(RESOURCE_SHARES,),
)
_CLUSTER_SNAPSHOTS = _Kind(
    CLUSTER_SNAPSHOTS,
    "describe_db_cluster_snapshots",
    "DBClusterSnapshots",
    "DBClusterSnapshotArn",
    "describe_db_cluster_snapshot_attributes",
    "DBClusterSnapshotIdentifier",
    derived=(RESOURCE_SHARES,),
)


def transform(
    kind_table: Table,
    account_id: str,
    region: str,
    item: Mapping[str, Any],
    arn_field: str,
    attributes: list[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The row of one instance, cluster or snapshot (snapshots with their attributes)."""
    extra: dict[str, Any] = {"account_id": account_id, "region": region, "arn": item[arn_field]}
    if kind_table.has_column("attributes"):
        extra["attributes"] = list(attributes or [])
    return with_ids(kind_table, shape(kind_table, item, **extra))


def instance_security_groups(parent: Row) -> list[Row]:
    """One row per VPC security group of a DB instance row (`vpc_security_groups` list)."""
    rows: dict[str, Row] = {}
    for group in parent.get("vpc_security_groups") or []:
        if not isinstance(group, Mapping) or not group.get("VpcSecurityGroupId"):
            continue
        row: Row = {
            "_cq_parent_id": parent.get("_cq_id"),
            "account_id": parent["account_id"],
            "region": parent["region"],
            "db_instance_arn": parent["arn"],
            "group_id": group["VpcSecurityGroupId"],
            "status": group.get("Status"),
        }
        row["_cq_id"] = cq_id(row, INSTANCE_SECURITY_GROUPS.cq_id_from)
        rows.setdefault(row["_cq_id"], row)
    return list(rows.values())


def derive(kind_table: Table, row: Row) -> Rows:
    """The derived rows of one instance or snapshot row (security groups, shares)."""
    if kind_table is INSTANCES:
        return {INSTANCE_SECURITY_GROUPS: instance_security_groups(row)}
    if kind_table.has_column("attributes"):
        return {RESOURCE_SHARES: rds_shares(row, kind_table.name, row.get("attributes"))}
    return {}


def restore_attributes(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The attribute list of a Describe*SnapshotAttributes answer (either kind)."""
    for result_key in ("DBSnapshotAttributesResult", "DBClusterSnapshotAttributesResult"):
        result = answer.get(result_key)
        if result is not None:
            for list_key in ("DBSnapshotAttributes", "DBClusterSnapshotAttributes"):
                if list_key in result:
                    return list(result[list_key] or [])
    return []


def _fetcher(kind: _Kind, name: str) -> Any:
    def fetch(ctx: SessionContext, region: str | None) -> Rows:
        region = need_region(name, region)
        rds = ctx.client("rds", region)
        out = empty([kind.table, *kind.derived])
        for item in paginate(rds, kind.operation, kind.key):
            attributes = None
            if kind.attributes_operation:
                answer = getattr(rds, kind.attributes_operation)(
                    **{kind.id_field: item[kind.id_field]}
                )
                attributes = restore_attributes(answer)
            row = transform(kind.table, ctx.account_id, region, item, kind.arn_field, attributes)
            out[kind.table].append(row)
            for tbl, rows in derive(kind.table, row).items():
                out[tbl].extend(rows)
        return out

    fetch.__doc__ = f"Every {kind.table.name} row of one region."
    return fetch


for _name, _kind, _perms, _what in (
    ("rds.instances", _INSTANCES, ("rds:DescribeDBInstances",), "RDS DB instances"),
    ("rds.clusters", _CLUSTERS, ("rds:DescribeDBClusters",), "RDS / Aurora DB clusters"),
    (
        "rds.db_snapshots",
        _DB_SNAPSHOTS,
        ("rds:DescribeDBSnapshots", "rds:DescribeDBSnapshotAttributes"),
        "RDS DB snapshots and their restore attribute",
    ),
    (
        "rds.cluster_snapshots",
        _CLUSTER_SNAPSHOTS,
        ("rds:DescribeDBClusterSnapshots", "rds:DescribeDBClusterSnapshotAttributes"),
        "RDS cluster snapshots and their restore attribute",
    ),
):
    register(
        Resource(
            name=_name,
            service="rds",
            tables=(_kind.table, *_kind.derived),
            permissions=_perms,
            fetch=_fetcher(_kind, _name),
            description=f"{_what}.",
        )
    )
