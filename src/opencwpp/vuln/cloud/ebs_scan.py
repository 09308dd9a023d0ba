"""`cwpp vuln scan aws --snapshots`: agentless scans of EC2 instances through their EBS snapshots.

Each snapshot is read through the EBS direct APIs (lazily, checksummed, the next blocks of a
file fetched ahead), its partitions, LVM2 volumes and ext4/XFS file systems parsed in user
space. The snapshots of one instance are read together as one machine (its root's fstab may
mount a volume of another disk), its packages extracted and matched. Findings are keyed to the
instance the volume is attached to (all its snapshots together form one target, uid prefix
`<instance ARN>#`), or to the snapshot when no instance is known. A snapshot that cannot be
read is reported in the summary and the scan goes on; its instance's earlier findings stay as
they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from botocore.exceptions import BotoCoreError, ClientError

from opencwpp.collect.aws.session import AwsContext, credentials_error
from opencwpp.core.models import Finding, ResourceRef
from opencwpp.findings import FindingFilter, finish_run, load_findings, save_findings, start_run
from opencwpp.lake.lake import Lake
from opencwpp.vuln.cloud.ebs_blocks import SnapshotReader
from opencwpp.vuln.cloud.ebs_read import open_snapshot, read_snapshots
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
from opencwpp.vuln.extract.walk import Inventory, resolve_os_packages
from opencwpp.vuln.findings import build_findings
from opencwpp.vuln.match import AdvisoryIndex, match_packages
from opencwpp.vuln.os_status import CHECKS as OS_CHECKS
from opencwpp.vuln.os_status import os_findings
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
    encrypted: list[str] = field(default_factory=list)  # LUKS volumes, not readable
    error: str | None = None
    delete_error: str | None = None
    deleted: bool = False


@dataclass
class EbsScanResult:
    """Every snapshot met, the findings, and what could not be listed or found."""

    run_id: str
    snapshots: list[SnapshotScan] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # the packages' vulnerabilities
    os_findings: list[Finding] = field(default_factory=list)  # no advisory source, end of life
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
    prefetch_blocks: int = 0


def _enrich(finding: Finding, targets: list[SnapshotTarget], kind: str) -> Finding:
    first = targets[0]
    ev = dict(finding.evidence)
    what = ev["package"]["name"] if "package" in ev else "operating system"
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
        name=f"{what} in {name}",
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
) -> tuple[list[SnapshotScan], list[Finding], list[Finding]]:
    """Scans the snapshots of one instance (or one lone snapshot) as one target.

    Returns the snapshot outcomes, the vulnerability findings and the OS findings.
    """
    arn = targets[0].resource_arn
    kind = INSTANCE_KIND if targets[0].instance_id else SNAPSHOT_KIND
    merged = Inventory(arn, kind)
    scans = [SnapshotScan(target) for target in targets]
    readers: dict[str, SnapshotReader] = {}
    try:
        for scan in scans:
            try:
                readers[scan.target.snapshot_id] = open_snapshot(
                    ctx, scan.target, opts.cache_blocks, opts.prefetch_blocks
                )
            except FetchError as err:
                scan.error = str(err)
        errors, origin = read_snapshots(readers, merged)
    finally:
        for reader in readers.values():
            reader.close()
    for scan in scans:
        sid = scan.target.snapshot_id
        scan.blocks_read = readers[sid].fetched if sid in readers else 0
        scan.error = scan.error or errors.get(sid)
        if scan.error is None:
            scan.packages = sum(1 for p in merged.packages if origin.get(p.path) == sid)
            scan.problems = [p for p in merged.problems if p.startswith((f"{sid} ", f"{sid}:"))]
            scan.encrypted = [e for e in merged.encrypted if e == sid or e.startswith(f"{sid} ")]
    complete = all(s.error is None for s in scans)
    if not any(s.error is None for s in scans):
        return scans, [], []  # nothing read: earlier packages and findings stay as they were
    resolve_os_packages(merged)
    save_packages(lake, merged)
    hits = match_packages(index, merged.packages)
    findings = [_enrich(f, targets, kind) for f in build_findings(lake, index, arn, kind, hits)]
    about_os = [_enrich(f, targets, kind) for f in os_findings(lake, merged, arn, kind)]
    prefix = f"{arn}#"
    assessed = _previous_checks(lake, prefix) | set(OS_CHECKS) if complete else set()
    save_findings(lake, run_id, findings + about_os, assessed, resource_prefix=prefix)
    return scans, findings, about_os


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
    prefetch_blocks: int = 8,
) -> EbsScanResult:
    """Scans the EBS snapshots of `regions` (see the module docstring) into the lake.

    `prefetch_blocks`: listed blocks fetched ahead while a file is read (0 turns it off).
    """
    opts = _Options(snapshot_ids, create, cache_blocks, prefetch_blocks)
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
            scans, findings, about_os = _scan_resource(lake, ctx, run_id, index, group, opts)
            result.snapshots.extend(scans)
            result.findings.extend(findings)
            result.os_findings.extend(about_os)
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
        "os_findings": [f"{f.resource.uid} {f.check_id}" for f in result.os_findings],
        "encrypted_volumes": sum(len(s.encrypted) for s in result.snapshots),
        "created": [s.target.snapshot_id for s in result.created],
        "deleted": [s.target.snapshot_id for s in result.created if s.deleted],
        "not_found": result.missing,
        "regions_failed": sorted(result.region_errors),
    }
    finish_run(lake, run_id, "ok", summary)
    return result
