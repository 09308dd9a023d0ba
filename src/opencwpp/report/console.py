"""Rich renderables for the CLI: a findings table and a summary panel.

Cloud data goes into `rich.text.Text` objects, which Rich never parses as markup, with control
characters removed: a resource named `[red]x[/red]` prints literally and cannot drive the terminal.
(`Text.from_markup(rich.markup.escape(s))` is not used: it doubles a trailing backslash.)
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from opencwpp.core.models import Finding, Severity, Status
from opencwpp.report import text
from opencwpp.report.model import (
    PILLAR_LABELS,
    ReportData,
    failing,
    iso_utc,
    lifecycle_counts,
    severities_desc,
    severity_matrix,
    sort_findings,
    status_counts,
    top_failing_checks,
)

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold white on dark_red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "dark_orange",
    Severity.LOW: "yellow",
    Severity.INFORMATIONAL: "dim",
}
STATUS_STYLES = {
    Status.FAIL: "bold red",
    Status.PASS: "green",
    Status.MUTED: "dim",
    Status.NOT_ASSESSED: "blue",
}
LIFECYCLE_STYLES = {"NEW": "bold magenta", "OPEN": "default", "RESOLVED": "green"}
DETAIL_WIDTH = 80


def safe(value: str, limit: int | None = None) -> Text:
    """Untrusted text as a literal `Text` (never parsed as markup), control characters replaced."""
    cleaned = text.clean(value)
    if limit is not None:
        cleaned = text.truncate(cleaned, limit)
    return Text(cleaned)


def severity_text(severity: Severity) -> Text:
    """A severity coloured for the terminal."""
    return Text(f" {severity.value.upper()} ", style=SEVERITY_STYLES[severity])


def findings_table(findings: list[Finding], lifecycle: dict[str, str] | None = None) -> Table:
    """One row per finding in report order: severity, status, check, resource, account, region."""
    lifecycle = lifecycle or {}
    table = Table(title="Findings", header_style="bold", expand=False, show_lines=False)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    if lifecycle:
        table.add_column("Lifecycle", no_wrap=True)
    table.add_column("Check", no_wrap=True)
    table.add_column("Resource", overflow="fold")
    table.add_column("Account", no_wrap=True)
    table.add_column("Region", no_wrap=True)
    table.add_column("Detail", overflow="fold")
    for f in sort_findings(findings):
        row: list[RenderableType] = [
            severity_text(f.severity),
            Text(f.status.value, style=STATUS_STYLES[f.status]),
        ]
        if lifecycle:
            state = lifecycle.get(f.id, "")
            row.append(Text(text.clean(state), style=LIFECYCLE_STYLES.get(state, "default")))
        row += [
            safe(f.check_id),
            safe(f.resource.name or f.resource.uid),
            safe(f.resource.account_id),
            safe(f.resource.region),
            safe(f.status_reason, DETAIL_WIDTH),
        ]
        table.add_row(*row)
    return table


def _matrix_table(findings: list[Finding]) -> Table:
    table = Table(title="Failing findings by pillar and severity", header_style="bold")
    table.add_column("Pillar")
    for sev in severities_desc():
        table.add_column(Text(sev.value.upper(), style=SEVERITY_STYLES[sev]), justify="right")
    table.add_column("Total", justify="right", style="bold")
    for pillar, row in severity_matrix(findings).items():
        cells = [Text(str(row[s]), style="" if row[s] else "dim") for s in severities_desc()]
        table.add_row(PILLAR_LABELS[pillar], *cells, str(sum(row.values())))
    return table


def _status_table(data: ReportData) -> Table:
    table = Table(title="Status", header_style="bold")
    table.add_column("Status")
    table.add_column("Findings", justify="right")
    for status, n in status_counts(data.findings).items():
        table.add_row(Text(status.value, style=STATUS_STYLES[status]), str(n))
    for state, n in lifecycle_counts(data).items():
        table.add_row(Text(state, style=LIFECYCLE_STYLES[state]), str(n))
    return table


def _top_table(findings: list[Finding]) -> Table:
    table = Table(title="Top failing checks", header_style="bold")
    table.add_column("Severity", no_wrap=True)
    table.add_column("Check", no_wrap=True)
    table.add_column("Title", overflow="fold")
    table.add_column("Failing", justify="right")
    for c in top_failing_checks(findings, limit=10):
        table.add_row(severity_text(c.severity), safe(c.check_id), safe(c.title), str(c.count))
    return table


def summary_panel(data: ReportData) -> RenderableType:
    """The run at a glance: pillar x severity matrix, status counts, top 10 failing checks."""
    title = Text.assemble(
        ("Summary", "bold"),
        f"  {iso_utc(data.generated_at)}  ",
        safe(data.lake_url),
    )
    body = Group(
        Text(f"{len(failing(data.findings))} failing of {len(data.findings)} findings"),
        _matrix_table(data.findings),
        _status_table(data),
        _top_table(data.findings),
    )
    return Panel(body, title=title, title_align="left", expand=False)
