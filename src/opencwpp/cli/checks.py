"""`cwpp checks list` and `cwpp checks test`: what the checks are, and do their cases hold."""

from __future__ import annotations

import typer
from rich.table import Table as RichTable

from opencwpp.catalog import lake_tables
from opencwpp.checks import builtin_checks
from opencwpp.checks.cases import load_cases, run_case
from opencwpp.cli import common
from opencwpp.cli.common import console
from opencwpp.lake import Lake

checks_app = typer.Typer(help="The posture checks.", no_args_is_help=True)


@checks_app.command("list")
def list_command(
    pillar: str | None = typer.Option(None, "--pillar", "-p", help="Only this pillar."),
    service: str | None = typer.Option(None, "--service", help="Only this service (s3, iam …)."),
) -> None:
    """List the checks with their pillar and severity."""
    table = RichTable(title="opencwpp checks", title_justify="left")
    for column in ("id", "service", "pillar", "severity", "title"):
        table.add_column(column)
    shown = 0
    for check in builtin_checks():
        meta = check.meta
        if (pillar and meta.pillar.value != pillar) or (service and meta.service != service):
            continue
        table.add_row(meta.id, meta.service, meta.pillar.value, meta.severity.value, meta.title)
        shown += 1
    console.print(table)
    console.print(f"{shown} checks")


@checks_app.command("test")
def test_command(
    lake: str = typer.Option(
        "duckdb:///:memory:",
        "--lake",
        help="Scratch lake to run the cases in (its tables are reset).",
    ),
) -> None:
    """Run every check's cases (rows in, expected PASS/FAIL out); exit 1 on a mismatch."""
    catalog = lake_tables()
    failures = total = 0
    with Lake.open(lake) as scratch:
        for check in builtin_checks():
            for case in load_cases(check):
                total += 1
                result = run_case(scratch, check, case, catalog)
                if not result.ok:
                    failures += 1
                    console.print(f"[red]FAIL[/] {check.id}: {common.escape(case.name)}")
    console.print(f"{total - failures} passed, {failures} failed")
    if failures:
        raise typer.Exit(1)
