"""`cwpp detect ingest|run` and `cwpp alerts`: CloudTrail into the lake, Sigma rules over it.

Mount: `app.add_typer(detect_commands.app, name="detect")` and
`app.command("alerts")(detect_commands.alerts_command)` in `cli/__init__.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from opencwpp.cli import common
from opencwpp.cli.common import console, err_console, escape
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Pillar
from opencwpp.detect.allowlist import AllowList, load_allowlist
from opencwpp.detect.engine import detect
from opencwpp.detect.ingest import DEFAULT_MAX_RECORD_BYTES, ingest, list_sources
from opencwpp.detect.pack import load_pack
from opencwpp.detect.stateful import stateful_rules
from opencwpp.findings import FindingFilter, load_findings

app = typer.Typer(help="Threat detection over CloudTrail.", no_args_is_help=True)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"invalid --since {value!r}: use ISO 8601, e.g. 2024-07-31T00:00Z"
        ) from None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    sources: list[str] = typer.Argument(..., help="Files, folders, s3://bucket/prefix."),
    lake: str | None = common.LakeOption,
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for s3:// sources."),
    max_record_bytes: int = typer.Option(
        DEFAULT_MAX_RECORD_BYTES, "--max-record-bytes", help="Records larger are rejected."
    ),
    force: bool = typer.Option(False, "--force", help="Re-read files already ingested."),
) -> None:
    """Load CloudTrail files into the lake (idempotent; files already done are skipped)."""
    from opencwpp.collect.aws.session import AwsContext

    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        files = list(list_sources(sources, lambda: AwsContext.create(profile)))
        report = ingest(opened, files, max_record_bytes=max_record_bytes, force=force)
    for f in report.files:
        if f.outcome == "skipped":
            continue
        rejected = ", ".join(f"{n} {escape(r)}" for r, n in sorted(f.rejected.items()))
        line = f"{f.outcome:8} {escape(f.uri)}: {f.read} read, {f.inserted} new"
        line += f", {f.duplicates} duplicate" if f.duplicates else ""
        line += f", rejected: {rejected}" if rejected else ""
        line += f" [red]{escape(f.error)}[/]" if f.error else ""
        console.print(line)
    console.print(
        f"{len(report.files)} file(s): {report.count('ingested')} ingested, "
        f"{report.count('partial')} partial, {report.count('failed')} failed, "
        f"{report.count('skipped')} already done; {report.read} records read, "
        f"{report.inserted} new events, {report.rejected} rejected"
    )
    if report.count("failed"):
        raise typer.Exit(1)


@app.command("run")
def run_command(
    ctx: typer.Context,
    rules: list[str] = typer.Option([], "--rules", help="More Sigma rule files or folders."),
    builtin: bool = typer.Option(
        True, "--builtin/--no-builtin", help="Run opencwpp's rule pack and stateful detections."
    ),
    allowlist: Path | None = typer.Option(
        None, "--allowlist", help="YAML with detect.allow entries (known automation)."
    ),
    since: str | None = typer.Option(None, "--since", help="Only events at or after (ISO 8601)."),
    lake: str | None = common.LakeOption,
) -> None:
    """Run the rule pack, the stateful detections and any Sigma rules; alerts become findings."""
    start = _since(since)
    if not builtin and not rules:
        raise UsageError("nothing to run: give --rules DIR or drop --no-builtin")
    cfg = common.settings(ctx, lake=lake)
    if allowlist is not None:
        allowed: AllowList | None = load_allowlist(allowlist)
    else:
        allowed = AllowList(tuple(cfg.detect.allow)) if cfg.detect.allow else None
    ruleset = load_pack(rules, builtin=builtin)
    for problem in ruleset.problems:
        err_console.print(
            f"[yellow]skipped rule[/] {escape(problem.source)}: {escape(problem.reason)}"
        )
    compiled = ruleset.rules + (stateful_rules() if builtin else [])
    if allowed is not None:
        for entry in allowed.expired():
            err_console.print(
                f"[yellow]expired allow-list entry[/] {escape(entry.identity)} "
                f"(owner {escape(entry.owner)}, expired {entry.expires})"
            )
    with common.open_lake(cfg.lake) as opened:
        result = detect(opened, compiled, start, allowed.apply if allowed else None)
    muted = sum(1 for f in result.findings if f.status.value == "MUTED")
    console.print(
        f"{result.rules_run} rule(s) run, {len(result.findings) - muted} alert(s)"
        + (f" and {muted} allow-listed" if muted else "")
        + f" over {result.matched_events} matching event(s); "
        + ", ".join(f"{k.lower()} {v}" for k, v in sorted(result.lifecycle.items()))
    )


def alerts_command(
    ctx: typer.Context,
    lake: str | None = common.LakeOption,
    severity: str | None = typer.Option(None, "--severity", "-s", help="Minimum severity."),
    limit: int = typer.Option(100, "--limit", help="At most this many rows."),
) -> None:
    """Threat-detection alerts (open findings), newest first, one row per rule and identity."""
    cfg = common.settings(ctx, lake=lake)
    where = FindingFilter(
        statuses=("FAIL",),
        pillars=(Pillar.THREAT.value,),
        min_severity=common.parse_severity(severity),
    )
    with common.open_lake(cfg.lake) as opened:
        stored = [
            s
            for s in load_findings(opened, where)
            if s.finding.check_id.startswith(("sigma:", "stateful:"))
        ]
    # save_findings stamps first/last_seen with run times; the events' times are in evidence.
    stored.sort(key=lambda s: str(s.finding.evidence.get("last_event_time") or ""), reverse=True)
    table = Table("last event", "severity", "rule", "identity", "events", "ATT&CK", "author")
    for item in stored[:limit]:
        f = item.finding
        table.add_row(
            str(f.evidence.get("last_event_time") or "").replace("T", " "),
            f.severity.value,
            escape(f.title),
            escape(f.resource.uid),
            str(f.evidence.get("event_count", "")),
            escape(", ".join(f.mitre_attack)),
            escape(str(f.evidence.get("rule_author", ""))),
        )
    console.print(table)
    console.print(f"{len(stored)} alert(s)")
