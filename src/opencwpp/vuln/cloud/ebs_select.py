"""Which EBS snapshots to scan: the latest completed one of each volume attached to an instance.

The lake answers when the EBS volumes and snapshots of the (account, region) were synced;
otherwise DescribeVolumes and DescribeSnapshots (OwnerIds=self) do. `--snapshot-ids` picks
snapshots by id. Creating snapshots (opt-in) and deleting them (opt-in) live here too: they are
the only writes of the vulnerability scanner.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import paginate
from opencwpp.lake.lake import Lake
from opencwpp.vuln.cloud.lambda_code import api_error

# Reading existing snapshots (DescribeVolumes/DescribeSnapshots only when the lake lacks them).
PERMISSIONS = (
    "ec2:DescribeVolumes",
    "ec2:DescribeSnapshots",
    "ebs:ListSnapshotBlocks",
    "ebs:GetSnapshotBlock",
)
# Only with --create-snapshots (and --delete-created).
CREATE_PERMISSIONS = ("ec2:CreateSnapshot", "ec2:CreateTags")
DELETE_PERMISSIONS = ("ec2:DeleteSnapshot",)
CREATED_TAG = "opencwpp:vuln-scan"
SNAPSHOTS_TABLE, VOLUMES_TABLE = "aws_ec2_ebs_snapshots", "aws_ec2_ebs_volumes"


def partition_of(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


@dataclass
class Volume:
    """An in-use volume and the instance it is attached to."""

    volume_id: str
    instance_id: str
    device: str


@dataclass
class SnapshotTarget:
    """One snapshot to scan, and the instance its volume is attached to (when known)."""

    snapshot_id: str
    region: str
    account_id: str
    volume_id: str = ""
    instance_id: str = ""
    device: str = ""
    start_time: datetime | None = None
    created: bool = False

    @property
    def snapshot_arn(self) -> str:
        """The snapshot's ARN."""
        part = partition_of(self.region)
        return f"arn:{part}:ec2:{self.region}:{self.account_id}:snapshot/{self.snapshot_id}"

    @property
    def resource_arn(self) -> str:
        """What findings are keyed to: the instance, else the snapshot itself."""
        if not self.instance_id:
            return self.snapshot_arn
        part = partition_of(self.region)
        return f"arn:{part}:ec2:{self.region}:{self.account_id}:instance/{self.instance_id}"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def attached(volume_id: str, state: str | None, attachments: Any) -> Volume | None:
    """The volume with its instance when it is in use and attached to one."""
    if state != "in-use":
        return None
    for att in _json(attachments) or []:
        if att.get("InstanceId") and att.get("State", "attached") == "attached":
            return Volume(volume_id, str(att["InstanceId"]), str(att.get("Device") or ""))
    return None


def latest(
    volumes: Iterable[Volume], snapshots: Iterable[dict[str, Any]], region: str, account: str
) -> list[SnapshotTarget]:
    """The latest completed snapshot of each volume (snapshots as DescribeSnapshots items)."""
    best: dict[str, dict[str, Any]] = {}
    for snap in snapshots:
        vol = snap.get("VolumeId") or ""
        if snap.get("State") != "completed" or not vol:
            continue
        held = best.get(vol)
        if held is None or (snap.get("StartTime") or datetime.min) > (
            held.get("StartTime") or datetime.min
        ):
            best[vol] = snap
    out = []
    for v in volumes:
        pick = best.get(v.volume_id)
        if pick is not None:
            out.append(
                SnapshotTarget(
                    str(pick["SnapshotId"]),
                    region,
                    account,
                    v.volume_id,
                    v.instance_id,
                    v.device,
                    pick.get("StartTime"),
                )
            )
    return sorted(out, key=lambda t: (t.instance_id, t.device, t.snapshot_id))


def _synced(lake: Lake, account: str, region: str) -> bool:
    if not lake.table_exists("cwpp_sync_scopes"):
        return False
    rows = lake.query(
        "SELECT table_name FROM cwpp_sync_scopes WHERE account_id = ? AND region = ? "
        "AND status = 'ok' AND table_name IN (?, ?)",
        [account, region, SNAPSHOTS_TABLE, VOLUMES_TABLE],
    )
    return len({r["table_name"] for r in rows}) == 2


def volumes_from_lake(lake: Lake, account: str, region: str) -> list[Volume] | None:
    """The attached volumes as last synced; None when the region's volumes were not synced."""
    if not _synced(lake, account, region):
        return None
    rows = lake.query(
        f"SELECT volume_id, state, attachments FROM {VOLUMES_TABLE} "
        "WHERE account_id = ? AND region = ?",
        [account, region],
    )
    found = (attached(str(r["volume_id"]), r["state"], r["attachments"]) for r in rows)
    return [v for v in found if v is not None]


def snapshots_from_lake(lake: Lake, account: str, region: str) -> list[dict[str, Any]]:
    """The region's synced snapshots, shaped like DescribeSnapshots items."""
    rows = lake.query(
        f"SELECT snapshot_id, volume_id, state, start_time FROM {SNAPSHOTS_TABLE} "
        "WHERE account_id = ? AND region = ?",
        [account, region],
    )
    return [
        {
            "SnapshotId": r["snapshot_id"],
            "VolumeId": r["volume_id"],
            "State": r["state"],
            "StartTime": r["start_time"].replace(tzinfo=None) if r["start_time"] else None,
        }
        for r in rows
    ]


def _ec2(ctx: AwsContext, region: str) -> Any:
    return ctx.client("ec2", region)


def volumes_from_api(ctx: AwsContext, region: str) -> list[Volume]:
    """The region's attached volumes (DescribeVolumes)."""
    try:
        items = paginate(_ec2(ctx, region), "describe_volumes", "Volumes")
    except ClientError as err:
        raise api_error("DescribeVolumes", err) from None
    found = (attached(str(v["VolumeId"]), v.get("State"), v.get("Attachments")) for v in items)
    return [v for v in found if v is not None]


def _naive(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for s in items:
        if isinstance(s.get("StartTime"), datetime):
            s["StartTime"] = s["StartTime"].replace(tzinfo=None)
    return items


def snapshots_from_api(
    ctx: AwsContext, region: str, ids: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The account's own snapshots of the region (DescribeSnapshots), or those of `ids`."""
    kwargs: dict[str, Any] = {"OwnerIds": ["self"]}
    if ids:  # a filter, not SnapshotIds: ids of other regions must not fail the call
        kwargs = {"Filters": [{"Name": "snapshot-id", "Values": list(ids)}]}
    try:
        return _naive(paginate(_ec2(ctx, region), "describe_snapshots", "Snapshots", **kwargs))
    except ClientError as err:
        raise api_error("DescribeSnapshots", err) from None


def chosen(
    ctx: AwsContext, region: str, ids: Sequence[str], volumes: Sequence[Volume]
) -> list[SnapshotTarget]:
    """The snapshots named by `ids` found in `region`, with their volume's instance if any."""
    by_volume = {v.volume_id: v for v in volumes}
    out = []
    for snap in snapshots_from_api(ctx, region, ids):
        vol = by_volume.get(str(snap.get("VolumeId") or ""))
        out.append(
            SnapshotTarget(
                str(snap["SnapshotId"]),
                region,
                ctx.account_id,
                str(snap.get("VolumeId") or ""),
                vol.instance_id if vol else "",
                vol.device if vol else "",
                snap.get("StartTime"),
            )
        )
    return out


def create_snapshots(
    ctx: AwsContext, region: str, volumes: Sequence[Volume], run_id: str
) -> tuple[list[SnapshotTarget], dict[str, str], str | None]:
    """Snapshots of `volumes` (ec2:CreateSnapshot), waited for.

    Returns the snapshots made, the volumes that could not be snapshotted (id -> error) and why
    the made ones did not all complete (None when they did).
    """
    ec2 = _ec2(ctx, region)
    made: list[SnapshotTarget] = []
    failed: dict[str, str] = {}
    for v in volumes:
        tags = [{"Key": CREATED_TAG, "Value": run_id}]
        try:
            snap = ec2.create_snapshot(
                VolumeId=v.volume_id,
                Description=f"opencwpp vulnerability scan {run_id}",
                TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}],
            )
        except ClientError as err:
            failed[v.volume_id] = str(api_error("CreateSnapshot", err))
            continue
        made.append(
            SnapshotTarget(
                str(snap["SnapshotId"]),
                region,
                ctx.account_id,
                v.volume_id,
                v.instance_id,
                v.device,
                created=True,
            )
        )
    if not made:
        return made, failed, None
    try:
        ec2.get_waiter("snapshot_completed").wait(
            SnapshotIds=[t.snapshot_id for t in made],
            WaiterConfig={"Delay": 15, "MaxAttempts": 240},
        )
    except WaiterError as err:
        return made, failed, f"created snapshot did not complete ({err})"
    return made, failed, None


def delete_snapshot(ctx: AwsContext, target: SnapshotTarget) -> str | None:
    """Deletes a snapshot this run created; the error text when it could not."""
    try:
        _ec2(ctx, target.region).delete_snapshot(SnapshotId=target.snapshot_id)
    except ClientError as err:
        return str(api_error("DeleteSnapshot", err))
    return None
