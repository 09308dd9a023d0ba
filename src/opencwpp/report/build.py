"""From the lake to a report: load stored findings, render them in a format, write the file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from opencwpp.core.errors import UsageError
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.lake.lake import Lake, redact_url
from opencwpp.report.alert_events import load_alert_events
from opencwpp.report.formats import Format
from opencwpp.report.history import latest_diff, trend
from opencwpp.report.model import ReportData


def report_data(
    lake: Lake,
    *,
    run_id: str | None = None,
    where: FindingFilter | None = None,
    history: bool = False,
) -> ReportData:
    """The stored findings matching `where`, with their lifecycle, ready to render.

    With `history`, the report also carries the findings-over-time trend and the diff of the
    last two assess runs (restricted to the findings the filter kept). Threat-detection alerts
    come with the stored CloudTrail events their evidence names.
    """
    stored = load_findings(lake, where)
    findings = [s.finding for s in stored]
    changes = latest_diff(lake) if history else None
    if changes is not None and where is not None:
        changes = changes.only({f.id for f in findings})
    return ReportData(
        findings=findings,
        generated_at=datetime.now(UTC),
        lake_url=redact_url(lake.url),
        run_id=run_id,
        lifecycle={s.finding.id: s.lifecycle for s in stored if s.lifecycle},
        changes=changes,
        trend=trend(lake) if history else [],
        alert_events=load_alert_events(lake, findings),
    )


def write_report(data: ReportData, fmt: Format, path: Path) -> int:
    """Renders `data` as `fmt` into `path` (its folder is created); returns the finding count."""
    text = fmt.render(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write report {path}: {err.strerror}") from err
    return len(data.findings)
