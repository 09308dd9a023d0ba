"""`cwpp vuln …`: advisory database import/status, scans of targets, SBOM export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table as RichTable

from opencwpp.cli import common
from opencwpp.cli.common import console, err_console, escape
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Finding
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.inventory import inventory
from opencwpp.vuln.osv.importer import detect_and_import
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
    console.print(", ".join(f"{k}: {v}" for k, v in status["counts"].items()))


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
    }


@app.command("scan")
def scan_command(
    ctx: typer.Context,
    target: Path = typer.Argument(..., help="A directory, image tarball, zip or SBOM file."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 when a finding at or above this severity exists."
    ),
    lake: str | None = common.LakeOption,
) -> None:
    """Scan a target's packages against the advisories; findings go to the lake."""
    if fmt not in ("table", "json"):
        raise UsageError(f"unknown format {fmt!r}: use table or json")
    cfg = common.settings(ctx, lake=lake, fail_on=common.parse_severity(fail_on))
    with common.open_lake(cfg.lake) as opened:
        result = scan(opened, target)
    for problem in result.inventory.problems:
        err_console.print(f"[yellow]unreadable:[/] {escape(problem)}")
    findings = sorted(result.findings, key=lambda f: (-f.severity.rank, f.check_id))
    if fmt == "json":
        typer.echo(json.dumps([_json_finding(f) for f in findings], indent=1, default=str))
    else:
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
    inv = result.inventory
    err_console.print(
        f"{escape(inv.target)} ({inv.kind}"
        + (f", {escape(inv.os.pretty_name or inv.os.id)}" if inv.os else "")
        + f"): {len(inv.packages)} packages, {len(findings)} vulnerabilities, "
        f"{len(inv.problems)} inputs unreadable"
    )
    if cfg.fail_on is not None and any(f.severity.rank >= cfg.fail_on.rank for f in findings):
        raise typer.Exit(1)


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
