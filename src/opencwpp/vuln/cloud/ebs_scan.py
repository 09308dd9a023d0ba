"""`cwpp vuln scan aws --snapshots`: agentless scans of EC2 instances through their EBS snapshots.

Each snapshot is read through the EBS direct APIs (lazily, checksummed), its partitions and
ext4/XFS file systems parsed in user space, its packages extracted and matched. Findings are
keyed to the instance the volume is attached to (all its snapshots together form one target,
uid prefix `<instance ARN>#`), or to the snapshot when no instance is known. A snapshot that
cannot be read is reported in the summary and the scan goes on; its instance's earlier findings
stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from botocore.exceptions import BotoCoreError, ClientError

from opencwpp.collect.aws.session import AwsContext, credentials_error
from opencwpp.core.models import Finding, ResourceRef
from opencwpp.findings import FindingFilter, finish_run, load_findings, save_findings, start_run
from opencwpp.lake.lake import Lake
from opencwpp.vuln.cloud.ebs_blocks import EBS_BLOCK_SIZE, BlockError, SnapshotReader
from opencwpp.vuln.cloud.ebs_select import (
    SnapshotTarget,
    chosen,
    create_snapshots,
    delete_snapshot,
    latest,
    snapshots_from_api,
    snapshots_from_lake,
    volumes_from_api,
    volumes_from_lake,
)
from opencwpp.vuln.cloud.lambda_code import FetchError
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.walk import Inventory, resolve_os_packages
from opencwpp.vuln.findings import build_findings
from opencwpp.vuln.match import AdvisoryIndex, match_packages
from opencwpp.vuln.scan import save_packages
from opencwpp.vuln.targets.optional import disk_parser

INSTANCE_KIND, SNAPSHOT_KIND = "AwsEc2Instance", "AwsEc2Snapshot"


@dataclass
class SnapshotScan:
    """The outcome for one snapshot: packages found, blocks read, or why it was not read."""

    target: SnapshotTarget
    packages: int = 0
    blocks_read: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    delete_error: str | None = None
    deleted: bool = False


@dataclass
class EbsScanResult:
    """Every snapshot met, the findings, and what could not be listed or found."""

    run_id: str
    snapshots: list[SnapshotScan] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    region_errors: dict[str, str] = field(default_factory=dict)
    volume_errors: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def created(self) -> list[SnapshotScan]:
        """The snapshots this run created (deleted or left for the user)."""
        return [s for s in self.snapshots if s.target.created]


@dataclass
class _Options:
    snapshot_ids: Sequence[str]
    create: bool
    cache_blocks: int


def _block_size(ctx: AwsContext, listed: int) -> int | None:
    """The block size to address blocks with: the API's, except an emulator's known misreport.

    AWS always uses 512 KiB blocks; moto's ListSnapshotBlocks reports 512 bytes while storing
    512 KiB blocks, so behind a custom endpoint a 512 is read as 512 KiB.
    """
    return EBS_BLOCK_SIZE if ctx.custom_endpoint and listed == 512 else None


def read_snapshot(ctx: AwsContext, target: SnapshotTarget, inv: Inventory, opts: _Options) -> int:
    """Adds the packages of one snapshot to `inv`; returns the blocks fetched.

    Raises FetchError (one line, naming the snapshot) when it cannot be read at all.
    """
    label = target.snapshot_id
    client = ctx.client("ebs", target.region)
    reader: SnapshotReader | None = None
    try:
        reader = SnapshotReader(client, label, cache_blocks=opts.cache_blocks)
        fixed = _block_size(ctx, reader.block_size)
        if fixed:
            reader.block_size = fixed
            reader.size = max(reader.size, (max(reader.tokens, default=-1) + 1) * fixed)
        disk_parser()(reader, inv, label)
    except BlockError as err:
        raise FetchError(str(err)) from None
    except BadInputError as err:
        # A parser probing for a partition table may swallow a block error: report that one.
        failure = reader.failure if reader is not None else None
        raise FetchError(str(failure or err)) from None
    if reader.failure is not None:
        raise FetchError(str(reader.failure))
    return reader.fetched


def _enrich(finding: Finding, targets: list[SnapshotTarget], kind: str) -> Finding:
    first = targets[0]
    ev = dict(finding.evidence)
    ev["resource"] = {
        "arn": first.resource_arn,
        "type": kind,
        "instance_id": first.instance_id or None,
        "account_id": first.account_id,
        "region": first.region,
        "snapshots": [
            {"snapshot_id": t.snapshot_id, "volume_id": t.volume_id, "device": t.device}
            for t in targets
        ],
    }
    name = first.instance_id or first.snapshot_id
    ref = ResourceRef(
        uid=finding.resource.uid,
        type=kind,
        account_id=first.account_id,
        region=first.region,
        name=f"{ev['package']['name']} in {name}",
    )
    return replace(finding, resource=ref, evidence=ev)


def _previous_checks(lake: Lake, prefix: str) -> set[str]:
    stored = load_findings(lake, FindingFilter(pillars=("vulnerability",), resource=prefix))
    return {s.finding.check_id for s in stored if s.finding.resource.uid.startswith(prefix)}


def _scan_resource(
    lake: Lake,
    ctx: AwsContext,
    run_id: str,
    index: AdvisoryIndex,
    targets: list[SnapshotTarget],
    opts: _Options,
) -> tuple[list[SnapshotScan], list[Finding]]:
    """Scans the snapshots of one instance (or one lone snapshot) as one target."""
    arn = targets[0].resource_arn
    kind = INSTANCE_KIND if targets[0].instance_id else SNAPSHOT_KIND
    merged = Inventory(arn, kind)
    scans, complete = [], True
    for target in targets:
        scan = SnapshotScan(target)
        scans.append(scan)
        inv = Inventory(arn, kind)
        try:
            scan.blocks_read = read_snapshot(ctx, target, inv, opts)
        except FetchError as err:
            scan.error, complete = str(err), False
            continue
        scan.packages, scan.problems = len(inv.packages), inv.problems
        merged.os = merged.os or inv.os
        merged.packages.extend(inv.packages)
        merged.problems.extend(inv.problems)
    if not any(s.error is None for s in scans):
        return scans, []  # nothing read: earlier packages and findings stay as they were
    resolve_os_packages(merged)
    save_packages(lake, merged)
    hits = match_packages(index, merged.packages)
    findings = [_enrich(f, targets, kind) for f in build_findings(lake, index, arn, kind, hits)]
    prefix = f"{arn}#"
    assessed = _previous_checks(lake, prefix) if complete else set()
    save_findings(lake, run_id, findings, assessed, resource_prefix=prefix)
    return scans, findings


def _targets(
    lake: Lake, ctx: AwsContext, region: str, run_id: str, opts: _Options, result: EbsScanResult
) -> list[SnapshotTarget]:
    account = ctx.account_id
    volumes = volumes_from_lake(lake, account, region)
    from_lake = volumes is not None
    if volumes is None:
        volumes = volumes_from_api(ctx, region)
    if opts.snapshot_ids:
        return chosen(ctx, region, opts.snapshot_ids, volumes)
    if opts.create:
        made, failed, wait_error = create_snapshots(ctx, region, volumes, run_id)
        result.volume_errors.update(failed)
        if wait_error:
            for t in made:
                result.snapshots.append(SnapshotScan(t, error=wait_error))
            return []
        return made
    snaps = (
        snapshots_from_lake(lake, account, region) if from_lake else snapshots_from_api(ctx, region)
    )
    return latest(volumes, snaps, region, account)


def scan_snapshots(
    lake: Lake,
    ctx: AwsContext,
    regions: Sequence[str],
    *,
    snapshot_ids: Sequence[str] = (),
    create: bool = False,
    delete_created: bool = False,
    index: AdvisoryIndex | None = None,
    cache_blocks: int = 64,
) -> EbsScanResult:
    """Scans the EBS snapshots of `regions` (see the module docstring) into the lake."""
    opts = _Options(snapshot_ids, create, cache_blocks)
    disk_parser()  # missing parsers: say so before anything is listed or created
    run_id = start_run(lake, "vuln-scan-aws-ebs")
    result = EbsScanResult(run_id)
    index = index or AdvisoryIndex(lake)
    found: set[str] = set()
    for region in regions:
        try:
            targets = _targets(lake, ctx, region, run_id, opts, result)
        except FetchError as err:
            result.region_errors[region] = str(err)
            continue
        except (ClientError, BotoCoreError) as err:
            fatal = credentials_error(err)
            if fatal is not None:
                raise fatal from None
            result.region_errors[region] = f"{type(err).__name__}: {err}"
            continue
        found.update(t.snapshot_id for t in targets)
        groups: dict[str, list[SnapshotTarget]] = {}
        for t in targets:
            groups.setdefault(t.resource_arn, []).append(t)
        for group in groups.values():
            scans, findings = _scan_resource(lake, ctx, run_id, index, group, opts)
            result.snapshots.extend(scans)
            result.findings.extend(findings)
    result.missing = [s for s in snapshot_ids if s not in found]
    for scan in result.created:
        if delete_created:
            scan.delete_error = delete_snapshot(ctx, scan.target)
            scan.deleted = scan.delete_error is None
    summary = {
        "snapshots": len(result.snapshots),
        "scanned": sum(1 for s in result.snapshots if s.error is None),
        "failed": sum(1 for s in result.snapshots if s.error),
        "findings": len(result.findings),
        "created": [s.target.snapshot_id for s in result.created],
        "deleted": [s.target.snapshot_id for s in result.created if s.deleted],
        "not_found": result.missing,
        "regions_failed": sorted(result.region_errors),
    }
    finish_run(lake, run_id, "ok", summary)
    return result
