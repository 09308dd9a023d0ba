"""`cwpp assess`, `cwpp findings` and `cwpp report`: judge the lake and show the results."""

from __future__ import annotations

import typer

from opencwpp.assess import assess, failures_at_or_above, select_checks
from opencwpp.cli import common
from opencwpp.cli.common import console, err_console
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Pillar, Status
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.report import console as report_console
from opencwpp.report.build import report_data

FailOnOption = typer.Option(
    None, "--fail-on", help="Exit 1 when a FAIL at or above this severity exists (CI gating)."
)


def assess_command(
    ctx: typer.Context,
    check: list[str] | None = typer.Option(None, "--check", help="Only these check ids."),
    lake: str | None = common.LakeOption,
    mutelist: str | None = typer.Option(None, "--mutelist", help="Mutelist YAML file."),
    fail_on: str | None = FailOnOption,
) -> None:
    """Run the posture checks over the lake and store the findings (with history)."""
    cfg = common.settings(ctx, lake=lake, mutelist=mutelist, fail_on=common.parse_severity(fail_on))
    checks = select_checks(common.split_csv(check))
    with common.open_lake(cfg.lake) as opened:
        result = assess(opened, checks, common.mutelist_of(cfg))
        console.print(report_console.summary_panel(report_data(opened, run_id=result.run_id)))
    if cfg.fail_on is not None and failures_at_or_above(result.findings, cfg.fail_on):
        raise typer.Exit(1)


def _filter(
    severity: str | None,
    pillar: list[str] | None,
    status: list[str] | None,
    check: list[str] | None,
    resource: str | None,
) -> FindingFilter:
    pillars = common.split_csv(pillar)
    for name in pillars:
        if name not in {p.value for p in Pillar}:
            valid = ", ".join(p.value for p in Pillar)
            raise UsageError(f"unknown pillar {name!r}: use one of {valid}")
    statuses = [s.upper() for s in common.split_csv(status)]
    for name in statuses:
        if name not in {s.value for s in Status}:
            valid = ", ".join(s.value for s in Status)
            raise UsageError(f"unknown status {name!r}: use one of {valid}")
    return FindingFilter(
        statuses=tuple(statuses),
        min_severity=common.parse_severity(severity),
        pillars=tuple(pillars),
        check_ids=tuple(common.split_csv(check)),
        resource=resource or "",
    )


SeverityOption = typer.Option(None, "--severity", "-s", help="Minimum severity.")
PillarOption = typer.Option(None, "--pillar", "-p", help="access-control, data-encryption, …")
CheckOption = typer.Option(None, "--check", "-c", help="Check ids.")
ResourceOption = typer.Option(None, "--resource", "-r", help="Part of a resource ARN or name.")


def findings_command(
    ctx: typer.Context,
    severity: str | None = SeverityOption,
    pillar: list[str] | None = PillarOption,
    status: list[str] | None = typer.Option(
        ["FAIL"], "--status", help="FAIL, PASS, MUTED, NOT_ASSESSED (default FAIL)."
    ),
    check: list[str] | None = CheckOption,
    resource: str | None = ResourceOption,
    limit: int = typer.Option(200, "--limit", min=1, help="Show at most this many rows."),
    lake: str | None = common.LakeOption,
) -> None:
    """List stored findings as a table."""
    cfg = common.settings(ctx, lake=lake)
    where = _filter(severity, pillar, status, check, resource)
    with common.open_lake(cfg.lake) as opened:
        stored = load_findings(opened, where)
    if not stored:
        console.print("no findings match (run `cwpp scan aws` or `cwpp assess` first?)")
        return
    shown = stored[:limit]
    lifecycle = {s.finding.id: s.lifecycle for s in shown if s.lifecycle}
    console.print(report_console.findings_table([s.finding for s in shown], lifecycle))
    if len(stored) > limit:
        err_console.print(f"{len(stored) - limit} more not shown (raise --limit or filter)")
