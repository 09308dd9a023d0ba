"""Opening an instance's snapshots and reading them together as one machine's disks."""

from __future__ import annotations

from opencwpp.collect.aws.session import AwsContext
from opencwpp.vuln.cloud.ebs_blocks import EBS_BLOCK_SIZE, BlockError, SnapshotReader
from opencwpp.vuln.cloud.ebs_select import SnapshotTarget
from opencwpp.vuln.cloud.lambda_code import FetchError
from opencwpp.vuln.extract.walk import Inventory
from opencwpp.vuln.targets.optional import disks_parser


def _block_size(ctx: AwsContext, listed: int) -> int | None:
    """The block size to address blocks with: the API's, except an emulator's known misreport.

    AWS always uses 512 KiB blocks; moto's ListSnapshotBlocks reports 512 bytes while storing
    512 KiB blocks, so behind a custom endpoint a 512 is read as 512 KiB.
    """
    return EBS_BLOCK_SIZE if ctx.custom_endpoint and listed == 512 else None


def open_snapshot(
    ctx: AwsContext, target: SnapshotTarget, cache_blocks: int, prefetch: int
) -> SnapshotReader:
    """A reader of one snapshot (its blocks listed); FetchError when they cannot be listed."""
    client = ctx.client("ebs", target.region)
    try:
        reader = SnapshotReader(
            client,
            target.snapshot_id,
            cache_blocks=cache_blocks,
            prefetch=prefetch,
        )
    except BlockError as err:
        raise FetchError(str(err)) from None
    fixed = _block_size(ctx, reader.block_size)
    if fixed:
        reader.block_size = fixed
        reader.size = max(reader.size, (max(reader.tokens, default=-1) + 1) * fixed)
    return reader


def read_snapshots(
    readers: dict[str, SnapshotReader], inv: Inventory
) -> tuple[dict[str, str], dict[str, str]]:
    """Reads the snapshots of one machine together into `inv`.

    Together, because fstab may mount a volume of one on the root of another. Returns why
    each snapshot not read was not (by snapshot id), and the snapshot of each file read (by
    path). A snapshot with a damaged or refused block is left out whole and the others are
    read again without it, as if it had not been listed: nothing half read is reported.
    """
    errors: dict[str, str] = {}
    live = dict(readers)
    while live:
        attempt = Inventory(inv.target, inv.kind)
        try:
            read = disks_parser()([(r, sid) for sid, r in live.items()], attempt)
        except BlockError as err:
            failing = [sid for sid, r in live.items() if r.failure is not None] or list(live)
            errors.update({sid: str(live.pop(sid).failure or err) for sid in failing})
            continue
        # A parser probing for a partition table may swallow a block error: report that one.
        broken = [sid for sid, r in live.items() if r.failure is not None]
        if broken:
            errors.update({sid: str(live.pop(sid).failure) for sid in broken})
            continue
        errors.update({sid: str(err) for sid, err in read.failed.items()})
        inv.os, inv.packages, inv.problems = attempt.os, attempt.packages, attempt.problems
        inv.encrypted = attempt.encrypted
        return errors, read.origin
    return errors, {}
