"""`cwpp detect ingest|run` and `cwpp alerts`: CloudTrail into the lake, Sigma rules over it.

Mount: `app.add_typer(detect_commands.app, name="detect")` and
`app.command("alerts")(detect_commands.alerts_command)` in `cli/__init__.py`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from opencwpp.cli import common
from opencwpp.cli.common import console, err_console, escape
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Pillar
from opencwpp.detect.allowlist import AllowList, load_allowlist
from opencwpp.detect.engine import DetectResult, detect
from opencwpp.detect.ingest import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
    FileOutcome,
    IngestReport,
    SourceError,
    ingest,
    ingested_uris,
    list_sources,
)
from opencwpp.detect.pack import load_pack
from opencwpp.detect.sigma.rules import CompiledRule
from opencwpp.detect.stateful import stateful_rules
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.lake import Lake

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
    sources: list[str] = typer.Argument(
        ..., help="Files, folders, s3://bucket/prefix, or lookup[:REGION,…] (the LookupEvents API)."
    ),
    lake: str | None = common.LakeOption,
    profile: str | None = typer.Option(
        None, "--profile", help="AWS profile for s3:// and lookup sources."
    ),
    since: str | None = typer.Option(
        None, "--since", help="lookup: where the first window starts (ISO 8601; default 1 day)."
    ),
    max_record_bytes: int = typer.Option(
        DEFAULT_MAX_RECORD_BYTES, "--max-record-bytes", help="Records larger are rejected."
    ),
    max_file_bytes: int = typer.Option(
        DEFAULT_MAX_FILE_BYTES,
        "--max-file-bytes",
        help="Files larger once decompressed are not read (a gzip bomb), and reported.",
    ),
    force: bool = typer.Option(False, "--force", help="Re-read files already ingested."),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="A line for every file, not only for those with problems."
    ),
) -> None:
    """Load CloudTrail records into the lake (idempotent; files already done are skipped).

    Exits 1 when a file could not be read at all; it is retried on the next run.
    """
    start = _since(since)
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened, _ingest_progress() as progress:
        report = _ingest(
            opened, sources, profile, start, max_record_bytes, max_file_bytes, force, progress
        )
    _print_ingest(report, verbose=verbose)
    if report.count("failed"):
        raise typer.Exit(1)


class _IngestBar:
    """A Rich progress bar over the files being ingested (on stderr, gone when done)."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar
        self._task = bar.add_task("listing the sources", total=None)
        self._new = 0

    def start(self, files: int) -> None:
        """The sources are listed: this many files to go through."""
        self._bar.update(self._task, total=files, description="files")

    def __call__(self, outcome: FileOutcome) -> None:
        self._new += outcome.inserted
        self._bar.update(self._task, advance=1, description=f"files, {self._new:,} new events")


@contextmanager
def _ingest_progress() -> Iterator[_IngestBar]:
    columns = (
        TextColumn("[bold]ingest[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        yield _IngestBar(bar)


def _ingest(
    lake: Lake,
    sources: list[str],
    profile: str | None,
    since: datetime | None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    force: bool = False,
    progress: _IngestBar | None = None,
) -> IngestReport:
    from opencwpp.collect.aws.session import AwsContext

    files = list(
        list_sources(
            sources,
            lambda: AwsContext.create(profile),
            done=ingested_uris(lake),
            since=since.replace(tzinfo=UTC) if since is not None else None,
        )
    )
    if progress is not None:
        progress.start(len(files))
    return ingest(
        lake,
        files,
        max_record_bytes=max_record_bytes,
        max_file_bytes=max_file_bytes,
        force=force,
        progress=progress,
    )


def _print_ingest(
    report: IngestReport, quiet_when_nothing: bool = False, verbose: bool = False
) -> None:
    """A line per file with a problem (per file read, when verbose), then the totals."""
    for f in report.files:
        if f.outcome == "skipped" or (f.outcome == "ingested" and not verbose):
            continue
        rejected = ", ".join(f"{n} {escape(r)}" for r, n in sorted(f.rejected.items()))
        line = f"{f.outcome:8} {escape(f.uri)}: {f.read:,} read, {f.inserted:,} new"
        line += f", {f.duplicates:,} duplicate" if f.duplicates else ""
        line += f", rejected: {rejected}" if rejected else ""
        line += f" [red]{escape(f.error)}[/]" if f.error else ""
        console.print(line)
    if quiet_when_nothing and not report.inserted and not report.count("failed"):
        return
    console.print(
        f"{len(report.files):,} file(s): {report.count('ingested'):,} ingested, "
        f"{report.count('partial'):,} partial, {report.count('failed'):,} failed, "
        f"{report.count('skipped'):,} already done; {report.read:,} records read, "
        f"{report.inserted:,} new events, {report.rejected:,} rejected"
    )
    if report.count("failed"):
        console.print("Files that failed are not marked done: the next run reads them again.")


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
    follow: bool = typer.Option(
        False, "--follow", help="Keep polling --source for new records; evaluate as they arrive."
    ),
    source: list[str] = typer.Option(
        [], "--source", help="With --follow: a file, folder, s3://… or lookup[:REGIONS] to poll."
    ),
    interval: float = typer.Option(60.0, "--interval", min=0.1, help="Seconds between polls."),
    polls: int | None = typer.Option(
        None, "--polls", min=1, help="With --follow: stop after this many polls."
    ),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for the sources."),
    lake: str | None = common.LakeOption,
) -> None:
    """Run the rule pack, the stateful detections and any Sigma rules; alerts become findings.

    With --follow, polls the sources, ingests what is new and evaluates again whenever new
    events arrived, printing each new alert, until interrupted (Ctrl-C) or --polls is reached.
    """
    start = _since(since)
    if not builtin and not rules:
        raise UsageError("nothing to run: give --rules DIR or drop --no-builtin")
    if follow and not source:
        raise UsageError("--follow needs at least one --source to poll")
    if source and not follow:
        raise UsageError("--source is for --follow; load files with `cwpp detect ingest`")
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
        if not follow:
            _print_run(detect(opened, compiled, start, allowed.apply if allowed else None))
            return
        _follow(opened, compiled, start, allowed, source, profile, interval, polls)


def _print_run(result: DetectResult) -> None:
    muted = sum(1 for f in result.findings if f.status.value == "MUTED")
    console.print(
        f"{result.rules_run} rule(s) run, {len(result.findings) - muted} alert(s)"
        + (f" and {muted} allow-listed" if muted else "")
        + f" over {result.matched_events} matching event(s); "
        + ", ".join(f"{k.lower()} {v}" for k, v in sorted(result.lifecycle.items()))
    )


def _follow(
    lake: Lake,
    rules: list[CompiledRule],
    since: datetime | None,
    allowed: AllowList | None,
    sources: list[str],
    profile: str | None,
    interval: float,
    polls: int | None,
) -> None:
    """Ingest, evaluate when something new arrived, print new alerts, sleep; until stopped.

    A source that cannot be listed stops the first poll (a wrong bucket or credentials);
    later, it is reported and tried again at the next poll (a network or throttling blip
    must not end a watch).
    """
    alerting: set[str] | None = None  # failing alert ids after the last evaluation
    done = 0
    try:
        while True:
            try:
                report = _ingest(lake, sources, profile, None)
            except SourceError as err:
                if alerting is None:
                    raise
                done += 1
                err_console.print(
                    f"[yellow]poll {done} failed[/]: {escape(str(err))}; "
                    f"trying again in {interval:g} s"
                )
                if polls is not None and done >= polls:
                    break
                time.sleep(interval)
                continue
            _print_ingest(report, quiet_when_nothing=True)
            if alerting is None or report.inserted:
                result = detect(lake, rules, since, allowed.apply if allowed else None)
                failing = {f.id: f for f in result.findings if f.status.value == "FAIL"}
                for f in failing.values():
                    if alerting is not None and f.id not in alerting:
                        console.print(
                            f"[bold red]new alert[/] {f.severity.value} {escape(f.title)} "
                            f"by {escape(f.resource.uid)} "
                            f"({f.evidence.get('event_count', '?')} event(s))"
                        )
                if alerting is None:
                    _print_run(result)
                alerting = set(failing)
            done += 1
            if polls is not None and done >= polls:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        console.print("stopped")
    console.print(f"followed {done} poll(s); {len(alerting or ())} open alert(s)")


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
