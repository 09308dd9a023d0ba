"""EFS file systems: encryption, backup policy, and the file system policy split into statements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, split_policy
from opencwpp.collect.base import Resource, Rows, SessionContext, optional, paginate, register
from opencwpp.lake.schema import table

FILESYSTEMS = table(
    "aws_efs_filesystems",
    columns(
        """
        account_id region arn backup_policy_status file_system_policy tags:json creation_time:ts
        creation_token file_system_id life_cycle_state number_of_mount_targets:int owner_id
        performance_mode size_in_bytes:json availability_zone_id availability_zone_name
        encrypted:bool file_system_arn file_system_protection:json kms_key_id name
        provisioned_throughput_in_mibps:float throughput_mode
        """
    ),
    cq_id_from=["arn"],
)
_ABSENT = frozenset({"PolicyNotFound", "FileSystemNotFound"})


def transform_filesystem(
    account_id: str,
    region: str,
    fs: Mapping[str, Any],
    backup_status: str | None,
    policy: str | None,
) -> Rows:
    """The file system row and its policy's statement rows."""
    fs_arn = fs.get("FileSystemArn") or (
        f"arn:aws:elasticfilesystem:{region}:{account_id}:file-system/{fs['FileSystemId']}"
    )
    row = shape(
        FILESYSTEMS,
        fs,
        account_id=account_id,
        region=region,
        arn=fs_arn,
        backup_policy_status=backup_status,
        file_system_policy=policy,
    )
    out = empty((FILESYSTEMS, *POLICY_TABLES))
    out[FILESYSTEMS].append(with_ids(FILESYSTEMS, row))
    if policy:
        extend(
            out,
            split_policy(
                policy, account_id=account_id, source_table=FILESYSTEMS.name, source_arn=fs_arn
            ),
        )
    return out


def fetch_filesystems(ctx: SessionContext, region: str | None) -> Rows:
    """Every file system of one region with its backup and file system policies."""
    region = need_region("efs.filesystems", region)
    efs = ctx.client("efs", region)
    out = empty((FILESYSTEMS, *POLICY_TABLES))
    for fs in paginate(efs, "describe_file_systems", "FileSystems"):
        fs_id = fs["FileSystemId"]
        backup = optional(efs.describe_backup_policy, absent=_ABSENT, FileSystemId=fs_id) or {}
        status = (backup.get("BackupPolicy") or {}).get("Status")
        policy = optional(efs.describe_file_system_policy, absent=_ABSENT, FileSystemId=fs_id)
        text = (policy or {}).get("Policy")
        extend(out, transform_filesystem(ctx.account_id, region, fs, status, text))
    return out


register(
    Resource(
        name="efs.filesystems",
        service="efs",
        tables=(FILESYSTEMS, *POLICY_TABLES),
        permissions=(
            "elasticfilesystem:DescribeFileSystems",
            "elasticfilesystem:DescribeBackupPolicy",
            "elasticfilesystem:DescribeFileSystemPolicy",
        ),
        fetch=fetch_filesystems,
        description="EFS file systems: encryption, backup and file system policies.",
    )
)
