"""EBS: volumes, the account's own snapshots with who may restore them, default encryption.

A snapshot's `createVolumePermission` names the accounts (or the group `all`) allowed to create
volumes from it: `all` means public, any account id means shared. Each grantee is also a row of
`cwpp_aws_resource_shares` (source_table `aws_ec2_ebs_snapshots`), so checks need no JSON walk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from opencwpp.collect.aws._shape import arn, empty, need_region, shape, with_ids
from opencwpp.collect.aws._shares import RESOURCE_SHARES, ebs_shares
from opencwpp.collect.base import (
    PAGE_SIZE,
    Resource,
    Rows,
    SessionContext,
    not_assessed_reason,
    pages,
    register,
)
from opencwpp.lake.schema import BOOL, INT64, JSON, TIMESTAMP, table

VOLUMES = table(
    "aws_ec2_ebs_volumes",
    [
        "account_id",
        "region",
        "arn",
        ("tags", JSON),
        ("attachments", JSON),
        "availability_zone",
        ("create_time", TIMESTAMP),
        ("encrypted", BOOL),
        ("fast_restored", BOOL),
        ("iops", INT64),
        "kms_key_id",
        ("multi_attach_enabled", BOOL),
        "outpost_arn",
        ("size", INT64),
        "snapshot_id",
        "sse_type",
        "state",
        ("throughput", INT64),
        "volume_id",
        "volume_type",
    ],
    cq_id_from=["arn"],
)
SNAPSHOTS = table(
    "aws_ec2_ebs_snapshots",
    [
        "account_id",
        "region",
        "arn",
        ("tags", JSON),
        "data_encryption_key_id",
        "description",
        ("encrypted", BOOL),
        "kms_key_id",
        "outpost_arn",
        "owner_alias",
        "owner_id",
        "progress",
        ("restore_expiry_time", TIMESTAMP),
        "snapshot_id",
        "sse_type",
        ("start_time", TIMESTAMP),
        "state",
        "state_message",
        "storage_tier",
        "volume_id",
        ("volume_size", INT64),
    ],
    cq_id_from=["arn"],
)
SNAPSHOT_ATTRIBUTES = table(
    "aws_ec2_ebs_snapshot_attributes",
    [
        "account_id",
        "region",
        "snapshot_arn",
        ("create_volume_permissions", JSON),
        ("product_codes", JSON),
        "snapshot_id",
    ],
    cq_id_from=["snapshot_arn"],
    parent="aws_ec2_ebs_snapshots",
)
REGIONAL_CONFIGS = table(
    "aws_ec2_regional_configs",
    ["account_id", "region", ("ebs_encryption_enabled_by_default", BOOL), "ebs_default_kms_key_id"],
    cq_id_from=["account_id", "region"],
)


def transform_volume(account_id: str, region: str, volume: Mapping[str, Any]) -> Rows:
    """The row of one volume."""
    row = shape(
        VOLUMES,
        volume,
        account_id=account_id,
        region=region,
        arn=arn("ec2", region, account_id, f"volume/{volume['VolumeId']}"),
    )
    return {VOLUMES: [with_ids(VOLUMES, row)]}


def transform_snapshot(
    account_id: str,
    region: str,
    snapshot: Mapping[str, Any],
    attribute: Mapping[str, Any] | None,
) -> Rows:
    """The snapshot row, its createVolumePermission attribute row and share rows when read."""
    snapshot_arn = arn("ec2", region, account_id, f"snapshot/{snapshot['SnapshotId']}")
    parent = with_ids(
        SNAPSHOTS,
        shape(SNAPSHOTS, snapshot, account_id=account_id, region=region, arn=snapshot_arn),
    )
    out = {SNAPSHOTS: [parent], SNAPSHOT_ATTRIBUTES: [], RESOURCE_SHARES: []}
    if attribute is not None:
        child = shape(
            SNAPSHOT_ATTRIBUTES,
            attribute,
            account_id=account_id,
            region=region,
            snapshot_arn=snapshot_arn,
            create_volume_permissions=list(attribute.get("CreateVolumePermissions") or []),
            product_codes=list(attribute.get("ProductCodes") or []),
            snapshot_id=snapshot["SnapshotId"],
        )
        out[SNAPSHOT_ATTRIBUTES].append(with_ids(SNAPSHOT_ATTRIBUTES, child, parent))
        out[RESOURCE_SHARES] = ebs_shares(
            parent, SNAPSHOTS.name, child["create_volume_permissions"]
        )
    return out


def fetch_volumes(ctx: SessionContext, region: str | None) -> Iterator[Rows]:
    """Every EBS volume of one region, a page at a time."""
    region = need_region("ec2.ebs_volumes", region)
    paging = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    for page in pages(ctx.client("ec2", region), "describe_volumes", "Volumes", **paging):
        out = empty([VOLUMES])
        for volume in page:
            out[VOLUMES].extend(transform_volume(ctx.account_id, region, volume)[VOLUMES])
        yield out


def fetch_snapshots(ctx: SessionContext, region: str | None) -> Iterator[Rows]:
    """The account's own snapshots of one region with their createVolumePermission, by page."""
    region = need_region("ec2.ebs_snapshots", region)
    ec2 = ctx.client("ec2", region)
    paging = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    for page in pages(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"], **paging):
        out = empty([SNAPSHOTS, SNAPSHOT_ATTRIBUTES, RESOURCE_SHARES])
        for snap in page:
            attribute = ec2.describe_snapshot_attribute(
                SnapshotId=snap["SnapshotId"], Attribute="createVolumePermission"
            )
            for tbl, rows in transform_snapshot(ctx.account_id, region, snap, attribute).items():
                out[tbl].extend(rows)
        yield out


def _default_key(ec2: Any) -> str | None:
    try:
        return ec2.get_ebs_default_kms_key_id().get("KmsKeyId")  # type: ignore[no-any-return]
    except (ClientError, ResponseParserError) as err:
        if not_assessed_reason(err) is None:
            raise
        return None


def fetch_regional_config(ctx: SessionContext, region: str | None) -> Rows:
    """Whether new EBS volumes of the region are encrypted by default, and with which key."""
    region = need_region("ec2.regional_configs", region)
    ec2 = ctx.client("ec2", region)
    enabled = bool(ec2.get_ebs_encryption_by_default().get("EbsEncryptionByDefault"))
    # The default key only matters when encryption by default is on; not being allowed to read
    # it (or a service that lacks the call) leaves it unknown, not the region unassessed.
    key = _default_key(ec2) if enabled else None
    row = {
        "account_id": ctx.account_id,
        "region": region,
        "ebs_encryption_enabled_by_default": enabled,
        "ebs_default_kms_key_id": key,
    }
    return {REGIONAL_CONFIGS: [with_ids(REGIONAL_CONFIGS, row)]}


register(
    Resource(
        name="ec2.ebs_volumes",
        service="ec2",
        tables=(VOLUMES,),
        permissions=("ec2:DescribeVolumes",),
        fetch=fetch_volumes,
        description="EBS volumes: encryption, key, attachments.",
    )
)
register(
    Resource(
        name="ec2.ebs_snapshots",
        service="ec2",
        tables=(SNAPSHOTS, SNAPSHOT_ATTRIBUTES, RESOURCE_SHARES),
        permissions=("ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"),
        fetch=fetch_snapshots,
        description="The account's EBS snapshots and who may create volumes from them.",
    )
)
register(
    Resource(
        name="ec2.regional_configs",
        service="ec2",
        tables=(REGIONAL_CONFIGS,),
        permissions=("ec2:GetEbsEncryptionByDefault", "ec2:GetEbsDefaultKmsKeyId"),
        fetch=fetch_regional_config,
        description="EBS encryption by default and its default KMS key, per region.",
    )
)
