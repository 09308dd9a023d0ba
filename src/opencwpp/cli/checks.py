"""`cwpp checks list` and `cwpp checks test`: what the checks are, and do their cases hold."""

from __future__ import annotations

import typer
from rich.table import Table as RichTable

from opencwpp.assess import select_checks
from opencwpp.catalog import lake_tables
from opencwpp.checks import Check
from opencwpp.checks.cases import load_cases, run_case
from opencwpp.cli import common
from opencwpp.cli.common import console
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Pillar
from opencwpp.lake import Lake

checks_app = typer.Typer(help="The posture checks.", no_args_is_help=True)


PillarOption = typer.Option(None, "--pillar", "-p", help="Only this pillar.")
ServiceOption = typer.Option(None, "--service", help="Only this service (s3, iam …).")


def _chosen(check_ids: list[str] | None, pillar: str | None, service: str | None) -> list[Check]:
    """The checks named (all when none are), narrowed to a pillar and a service."""
    pillars = [p.value for p in Pillar]
    if pillar and pillar not in pillars:
        raise UsageError(f"unknown pillar {pillar!r}: use one of {', '.join(pillars)}")
    return [
        check
        for check in select_checks(common.split_csv(check_ids))
        if (not pillar or check.meta.pillar.value == pillar)
        and (not service or check.meta.service == service)
    ]


@checks_app.command("list")
def list_command(pillar: str | None = PillarOption, service: str | None = ServiceOption) -> None:
    """List the checks with their pillar and severity."""
    table = RichTable(title="opencwpp checks", title_justify="left")
    for column in ("id", "service", "pillar", "severity", "title"):
        table.add_column(column)
    shown = _chosen(None, pillar, service)
    for check in shown:
        meta = check.meta
        table.add_row(meta.id, meta.service, meta.pillar.value, meta.severity.value, meta.title)
    console.print(table)
    console.print(f"{len(shown)} checks")


@checks_app.command("test")
def test_command(
    lake: str = typer.Option(
        "duckdb:///:memory:",
        "--lake",
        help="Scratch lake to run the cases in (its tables are reset).",
    ),
    check_ids: list[str] | None = typer.Option(
        None, "--check", "-c", help="Only these check ids (repeat or comma-separate)."
    ),
    pillar: str | None = PillarOption,
    service: str | None = ServiceOption,
) -> None:
    """Run the checks' cases (rows in, expected PASS/FAIL out); exit 1 on a mismatch."""
    catalog = lake_tables()
    checks = _chosen(check_ids, pillar, service)
    if not checks:
        raise UsageError("no check matches the given --check, --pillar and --service")
    failures = total = 0
    with Lake.open(lake) as scratch:
        for check in checks:
            for case in load_cases(check):
                total += 1
                result = run_case(scratch, check, case, catalog)
                if not result.ok:
                    failures += 1
                    console.print(f"[red]FAIL[/] {check.id}: {common.escape(case.name)}")
    passed = total - failures
    console.print(f"{len(checks)} checks, {total} cases: {passed} passed, {failures} failed")
    if failures:
        raise typer.Exit(1)
