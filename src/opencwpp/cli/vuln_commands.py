"""`cwpp vuln …`: advisory database import/status, scans of targets, SBOM export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn
from rich.table import Table as RichTable

from opencwpp.cli import common
from opencwpp.cli.aws import EndpointOption, ProfileOption, RegionsOption
from opencwpp.cli.common import console, err_console, escape
from opencwpp.collect.aws.session import AwsContext
from opencwpp.config import Settings
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Finding
from opencwpp.vuln.cloud.ebs_scan import EbsScanResult, scan_snapshots
from opencwpp.vuln.cloud.ecr_scan import DEFAULT_IMAGES, DEFAULT_MAX_AGE_DAYS, scan_ecr
from opencwpp.vuln.cloud.lambda_scan import AwsScanResult, scan_lambda
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.inventory import inventory
from opencwpp.vuln.osv.download import Downloader, default_cache_dir
from opencwpp.vuln.osv.importer import detect_and_import
from opencwpp.vuln.osv.sources import Source, parse_assignments, plan, resolve_urls
from opencwpp.vuln.osv.update import UpdateResult, update
from opencwpp.vuln.sbom.writer import FORMATS, cyclonedx, spdx
from opencwpp.vuln.scan import scan
from opencwpp.vuln.status import db_status

app = typer.Typer(help="Vulnerability management: advisories, scans, SBOMs.", no_args_is_help=True)
db_app = typer.Typer(help="The advisory database in the lake.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("import")
def import_command(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ..., help="OSV dirs/zips/JSON, KEV JSON, EPSS CSV, EOL JSON."
    ),
    lake: str | None = common.LakeOption,
) -> None:
    """Import advisory data; each input is recognised by its content."""
    cfg = common.settings(ctx, lake=lake)
    failed = 0
    with common.open_lake(cfg.lake) as opened:
        for path in paths:
            try:
                result = detect_and_import(opened, path)
            except BadInputError as err:
                failed += 1
                err_console.print(f"[red]error:[/] {escape(str(err))}")
                continue
            for problem in result.problems:
                err_console.print(f"[yellow]skipped:[/] {escape(problem)}")
            console.print(
                f"{escape(str(path))}: {result.kind}, {result.records} records"
                + (f", {len(result.problems)} unreadable" if result.problems else "")
            )
    if failed:
        raise typer.Exit(1)


@db_app.command("status")
def status_command(ctx: typer.Context, lake: str | None = common.LakeOption) -> None:
    """Sources, record counts and age of the advisory database."""
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        status = db_status(opened)
    table = RichTable("source", "kind", "records", "unreadable", "imported", "age")
    now = datetime.now(UTC).replace(tzinfo=None)
    for row in status["sources"]:
        age = now - row["imported_at"]
        table.add_row(
            escape(row["source"]),
            row["kind"],
            str(row["records"]),
            str(row["problems"]),
            f"{row['imported_at']:%Y-%m-%d %H:%M}",
            f"{age.days}d {age.seconds // 3600}h",
        )
    console.print(table)
    if status["updates"]:
        updates = RichTable("source", "url", "records", "updated", "checked")
        for row in status["updates"]:
            updates.add_row(
                escape(row["name"]),
                escape(row["url"]),
                str(row["records"]),
                f"{row['updated_at']:%Y-%m-%d %H:%M}",
                f"{row['checked_at']:%Y-%m-%d %H:%M}",
            )
        console.print(updates)
    console.print(", ".join(f"{k}: {v}" for k, v in status["counts"].items()))


@db_app.command("update")
def update_command(
    ctx: typer.Context,
    source: list[str] | None = typer.Option(
        None, "--source", help="NAME=URL (osv base URL, kev, epss, eol); repeatable."
    ),
    ecosystems: list[str] | None = typer.Option(
        None, "--ecosystems", help="OSV ecosystems to fetch, comma-separated (default: ours)."
    ),
    cache: Path | None = typer.Option(
        None, "--cache", help="Download cache (default: $XDG_CACHE_HOME/opencwpp/vuln)."
    ),
    lake: str | None = common.LakeOption,
) -> None:
    """Download OSV, KEV, EPSS and EOL data and import it all at once (or nothing)."""
    cfg = common.settings(ctx, lake=lake)
    urls = resolve_urls(cfg.vuln.sources, parse_assignments(source or []))
    sources = plan(urls, common.split_csv(ecosystems))
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(src: Source, done: int, total: int | None) -> None:
            if src.name not in tasks:
                tasks[src.name] = bar.add_task(escape(src.name), total=total)
            bar.update(tasks[src.name], completed=done, total=total)

        downloader = Downloader(cache or default_cache_dir(), progress=progress)
        with common.open_lake(cfg.lake) as opened:
            result = update(opened, sources, downloader)
    _print_update(result)
    if result.failed:
        raise typer.Exit(1)


def _print_update(result: UpdateResult) -> None:
    for o in result.outcomes:
        name = escape(o.source.name)
        if o.status == "failed":
            err_console.print(f"[red]failed:[/] {name}: {escape(o.error or '')}")
            continue
        for problem in o.problems:
            err_console.print(f"[yellow]skipped:[/] {escape(problem)}")
        resumed = f", resumed at byte {o.resumed_from}" if o.resumed_from else ""
        detail = f"{o.records} records" if o.status == "imported" else o.status
        console.print(f"{name}: {detail}{resumed}")
    if result.failed:
        names = ", ".join(o.source.name for o in result.failed)
        err_console.print(
            f"[red]error:[/] update failed ({escape(names)}): nothing imported, "
            "the previous advisory database is unchanged; run again to resume"
        )


def _json_finding(f: Finding) -> dict[str, Any]:
    ev = f.evidence
    return {
        "id": f.id,
        "target": ev.get("target"),
        "package": {k: ev["package"][k] for k in ("name", "version", "ecosystem", "purl")},
        "vulnerability": ev["vulnerability"],
        "fixed_versions": ev["fixed_versions"],
        "priority": ev["priority"],
        "severity": f.severity.value,
        "paths": ev["package"]["paths"],
        **({"resource": ev["resource"]} if "resource" in ev else {}),
    }


def _print_findings(findings: list[Finding], fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps([_json_finding(f) for f in findings], indent=1, default=str))
        return
    table = RichTable("severity", "priority", "vulnerability", "package", "installed", "fixed")
    for f in findings:
        ev = f.evidence
        table.add_row(
            f.severity.value,
            ev["priority"]["level"],
            escape(f.check_id),
            escape(ev["package"]["name"]),
            escape(ev["package"]["version"]),
            escape(", ".join(ev["fixed_versions"])),
        )
    console.print(table)


def _print_aws_summary(result: AwsScanResult) -> None:
    for region, reason in sorted(result.region_errors.items()):
        err_console.print(f"[red]not listed:[/] {region}: {escape(reason)}")
    for s in result.functions:
        arn = escape(s.function.arn)
        if s.error:
            err_console.print(f"[red]not scanned:[/] {arn}: {escape(s.error)}")
        elif s.skipped:
            err_console.print(f"[yellow]skipped:[/] {arn}: {escape(s.skipped)}")
        for problem in s.problems:
            err_console.print(f"[yellow]unreadable:[/] {arn}: {escape(problem)}")
        if s.runtime_eol:
            err_console.print(f"[yellow]runtime:[/] {arn}: {escape(s.runtime_eol)}")
    scanned = [s for s in result.functions if not (s.error or s.skipped)]
    failed = sum(1 for s in result.functions if s.error)
    err_console.print(
        f"lambda: {len(scanned)} functions scanned, {failed} not readable, "
        f"{len(result.functions) - len(scanned) - failed} skipped, "
        f"{len(result.findings)} vulnerabilities, {len(result.region_errors)} regions not listed"
    )


def _scan_aws(
    cfg: Settings,
    fmt: str,
    profile: str | None,
    regions: list[str],
    endpoint: str | None,
    ecr_images: int = DEFAULT_IMAGES,
    ecr_max_age: int = DEFAULT_MAX_AGE_DAYS,
) -> list[Finding]:
    """`vuln scan aws`: Lambda functions and layers, ECR images (default: all regions)."""
    context = AwsContext.create(profile, endpoint_url=endpoint)
    chosen = context.validate_regions(regions) if regions else context.enabled_regions()
    with common.open_lake(cfg.lake) as opened:
        result = scan_lambda(opened, context, chosen)
        ecr = scan_ecr(
            opened,
            context,
            chosen,
            images_per_repository=ecr_images,
            max_age_days=ecr_max_age or None,
        )
    findings = sorted(
        [*result.findings, *ecr.findings], key=lambda f: (-f.severity.rank, f.check_id)
    )
    _print_findings(findings, fmt)
    _print_aws_summary(result)
    styles = {"error": "[red]{}[/]", "warning": "[yellow]{}[/]", "info": "{}"}
    for kind, line in ecr.summary_lines():
        err_console.print(styles[kind].format(escape(line)))
    return findings


def _print_ebs_summary(result: EbsScanResult) -> None:
    for region, reason in sorted(result.region_errors.items()):
        err_console.print(f"[red]not listed:[/] {region}: {escape(reason)}")
    for volume, reason in sorted(result.volume_errors.items()):
        err_console.print(f"[red]not snapshotted:[/] {escape(volume)}: {escape(reason)}")
    for missing in result.missing:
        err_console.print(f"[red]not found:[/] {escape(missing)} in the scanned regions")
    for s in result.snapshots:
        name = escape(f"{s.target.snapshot_id} ({s.target.resource_arn})")
        if s.error:
            err_console.print(f"[red]not scanned:[/] {name}: {escape(s.error)}")
        for problem in s.problems:
            err_console.print(f"[yellow]unreadable:[/] {name}: {escape(problem)}")
    for about in result.os_findings:
        uid = escape(about.resource.uid.rsplit("#", 1)[0])
        err_console.print(f"[yellow]os:[/] {uid}: {escape(about.status_reason)}")
    for s in result.created:
        if s.deleted:
            err_console.print(f"deleted: {escape(s.target.snapshot_id)} (created by this scan)")
        else:
            why = f": {escape(s.delete_error)}" if s.delete_error else " (--delete-created not set)"
            err_console.print(f"[yellow]kept:[/] {escape(s.target.snapshot_id)}{why}")
    failed = sum(1 for s in result.snapshots if s.error)
    err_console.print(
        f"ebs: {len(result.snapshots) - failed} snapshots scanned, {failed} not readable, "
        f"{len(result.findings)} vulnerabilities, {len(result.region_errors)} regions not listed"
    )


def _scan_ebs(
    cfg: Settings,
    fmt: str,
    profile: str | None,
    regions: list[str],
    endpoint: str | None,
    ids: list[str],
    create: bool,
    delete_created: bool,
) -> list[Finding]:
    """`vuln scan aws --snapshots`: EBS snapshots of the instances (read-only unless asked)."""
    context = AwsContext.create(profile, endpoint_url=endpoint)
    chosen = context.validate_regions(regions) if regions else context.enabled_regions()
    with common.open_lake(cfg.lake) as opened:
        result = scan_snapshots(
            opened, context, chosen, snapshot_ids=ids, create=create, delete_created=delete_created
        )
    findings = sorted(result.findings, key=lambda f: (-f.severity.rank, f.check_id))
    _print_findings(findings, fmt)
    _print_ebs_summary(result)
    return findings + result.os_findings  # an end-of-life OS counts for --fail-on


@app.command("scan")
def scan_command(
    ctx: typer.Context,
    target: str = typer.Argument(
        ...,
        help="A directory, image tarball, zip or SBOM file; `aws` for the cloud workloads "
        "(Lambda; needs lambda:ListFunctions, lambda:GetFunction, lambda:GetLayerVersion). "
        "A local path named aws: write ./aws.",
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 when a finding at or above this severity exists."
    ),
    profile: str | None = ProfileOption,
    regions: list[str] | None = RegionsOption,
    endpoint_url: str | None = EndpointOption,
    lake: str | None = common.LakeOption,
    ecr_images: int = typer.Option(
        DEFAULT_IMAGES,
        "--ecr-images",
        min=0,
        help="With aws: scan the N most recently pushed images of each ECR repository (0: none; "
        "needs ecr:DescribeRepositories, DescribeImages, BatchGetImage, GetDownloadUrlForLayer, "
        "DescribeImageScanFindings).",
    ),
    ecr_max_age: int = typer.Option(
        DEFAULT_MAX_AGE_DAYS,
        "--ecr-max-age",
        min=0,
        help="With aws: skip ECR images pushed more than DAYS ago (0: no bound).",
    ),
    snapshots: bool = typer.Option(
        False,
        "--snapshots",
        help="With aws: scan EC2 instances (instead of Lambda) agentlessly through the latest "
        "EBS snapshot of each attached volume (needs ebs:ListSnapshotBlocks, ebs:GetSnapshotBlock, "
        "ec2:DescribeVolumes, ec2:DescribeSnapshots).",
    ),
    snapshot_ids: list[str] | None = typer.Option(
        None, "--snapshot-ids", help="With aws: scan these snapshots (comma-separated)."
    ),
    create_snapshots: bool = typer.Option(
        False,
        "--create-snapshots",
        help="With aws: snapshot each attached volume now and scan that (writes: needs "
        "ec2:CreateSnapshot, ec2:CreateTags); created snapshots are kept and listed.",
    ),
    delete_created: bool = typer.Option(
        False,
        "--delete-created",
        help="With --create-snapshots: delete them after the scan (ec2:DeleteSnapshot).",
    ),
) -> None:
    """Scan a target's packages against the advisories; findings go to the lake."""
    if fmt not in ("table", "json"):
        raise UsageError(f"unknown format {fmt!r}: use table or json")
    cfg = common.settings(ctx, lake=lake, fail_on=common.parse_severity(fail_on))
    ids = common.split_csv(snapshot_ids)
    if delete_created and not create_snapshots:
        raise UsageError("--delete-created applies to snapshots made with --create-snapshots")
    if ids and create_snapshots:
        raise UsageError("--snapshot-ids and --create-snapshots exclude each other")
    if target == "aws" and (snapshots or ids or create_snapshots):
        regs = common.split_csv(regions)
        findings = _scan_ebs(
            cfg, fmt, profile, regs, endpoint_url, ids, create_snapshots, delete_created
        )
    elif target == "aws":
        regs = common.split_csv(regions)
        findings = _scan_aws(cfg, fmt, profile, regs, endpoint_url, ecr_images, ecr_max_age)
    else:
        if profile or regions or endpoint_url or snapshots or ids or create_snapshots:
            raise UsageError(
                "--profile/--regions/--endpoint-url/--snapshot* apply to `vuln scan aws` only"
            )
        findings = _scan_path(cfg, fmt, Path(target))
    if cfg.fail_on is not None and any(f.severity.rank >= cfg.fail_on.rank for f in findings):
        raise typer.Exit(1)


def _scan_path(cfg: Settings, fmt: str, target: Path) -> list[Finding]:
    with common.open_lake(cfg.lake) as opened:
        result = scan(opened, target)
    for problem in result.inventory.problems:
        err_console.print(f"[yellow]unreadable:[/] {escape(problem)}")
    for about in result.os_findings:
        err_console.print(f"[yellow]os:[/] {escape(about.status_reason)}")
    findings = sorted(result.findings, key=lambda f: (-f.severity.rank, f.check_id))
    _print_findings(findings, fmt)
    inv = result.inventory
    err_console.print(
        f"{escape(inv.target)} ({inv.kind}"
        + (f", {escape(inv.os.pretty_name or inv.os.id)}" if inv.os else "")
        + f"): {len(inv.packages)} packages, {len(findings)} vulnerabilities, "
        f"{len(inv.problems)} inputs unreadable"
    )
    return findings + result.os_findings  # an end-of-life OS counts for --fail-on


@app.command("sbom")
def sbom_command(
    target: Path = typer.Argument(..., help="A directory, image tarball, zip or SBOM file."),
    fmt: str = typer.Option("cyclonedx", "--format", "-f", help="cyclonedx or spdx."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
) -> None:
    """Write the target's package inventory as CycloneDX 1.6 or SPDX 2.3 JSON."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown SBOM format {fmt!r}: use cyclonedx or spdx")
    inv = inventory(target)
    for problem in inv.problems:
        err_console.print(f"[yellow]unreadable:[/] {escape(problem)}")
    doc = cyclonedx(inv) if fmt == "cyclonedx" else spdx(inv)
    text = json.dumps(doc, indent=1)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        err_console.print(f"{len(inv.packages)} packages written to {escape(str(output))}")
