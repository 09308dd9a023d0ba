"""Console report: the summary panel, then a Rich table of findings per check.

Checks come in report order (checks with failures first, most severe first); each table is titled
with the check's severity, id, title and failing count, bordered in its severity's colour, and its
rows are coloured by status; at most `MAX_ROWS_PER_CHECK` rows per check, failing first, the rest
counted in the caption. `cwpp report -f console` prints `renderable(data)` in colour to
the terminal; `render` gives the same as plain text (no escape codes) for `-o FILE`. Cloud text
goes through `report.console.safe`, so a resource named `[red]x[/red]` or carrying escape
sequences prints literally.
"""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from opencwpp.core.models import Severity, Status
from opencwpp.report.console import (
    DETAIL_WIDTH,
    LIFECYCLE_STYLES,
    STATUS_STYLES,
    safe,
    severity_text,
    summary_panel,
)
from opencwpp.report.formats import Format
from opencwpp.report.model import CheckGroup, ReportData, group_by_check
from opencwpp.report.text import clean

FILE_WIDTH = 200  # plain-text files are read in editors and pagers, not 80-column terminals
RESOURCE_WIDTH = 70
# Rows per check: a terminal is for reading, and Rich lays out ~0.5 ms per row. The failing rows
# come first; the rest is counted in the table's caption (every row: -f csv, json or html).
MAX_ROWS_PER_CHECK = 100
BORDERS = {
    Severity.CRITICAL: "red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "dark_orange",
    Severity.LOW: "yellow",
    Severity.INFORMATIONAL: "dim",
}


def _title(group: CheckGroup) -> Text:
    total = len(group.findings)
    return Text.assemble(
        severity_text(group.severity),
        " ",
        safe(group.check_id),
        (" · ", "dim"),
        safe(group.title),
        (f"  {group.failing} failing of {total}", "bold" if group.failing else "dim"),
    )


def check_table(group: CheckGroup, lifecycle: dict[str, str]) -> Table:
    """One check's findings, failing first, titled with its severity, id and failing count."""
    hidden = len(group.findings) - MAX_ROWS_PER_CHECK
    table = Table(
        title=_title(group),
        title_justify="left",
        caption=f"… {hidden:,} more findings of this check (every row: -f csv, json or html)"
        if hidden > 0
        else None,
        caption_justify="left",
        header_style="bold",
        border_style=BORDERS[group.severity],
        expand=False,
    )
    table.add_column("Status", no_wrap=True)
    if lifecycle:
        table.add_column("Lifecycle", no_wrap=True)
    table.add_column("Resource", overflow="fold", max_width=RESOURCE_WIDTH)
    table.add_column("Account", no_wrap=True)
    table.add_column("Region", no_wrap=True)
    table.add_column("Detail", overflow="fold", max_width=DETAIL_WIDTH)
    for f in group.findings[:MAX_ROWS_PER_CHECK]:
        row: list[RenderableType] = [Text(f.status.value, style=STATUS_STYLES[f.status])]
        if lifecycle:
            state = lifecycle.get(f.id, "")
            row.append(Text(clean(state), style=LIFECYCLE_STYLES.get(state, "default")))
        row += [
            safe(f.resource.name or f.resource.uid),
            safe(f.resource.account_id),
            safe(f.resource.region),
            safe(f.status_reason, DETAIL_WIDTH * 3),
        ]
        table.add_row(*row, style="dim" if f.status is Status.PASS else "")
    return table


def findings_by_check(data: ReportData) -> Group:
    """A table per check, in report order: checks with failures first, most severe first."""
    return Group(*(check_table(g, data.lifecycle) for g in group_by_check(data.findings)))


def renderable(data: ReportData) -> RenderableType:
    """The summary panel, then the findings grouped by check (what the terminal shows)."""
    if not data.findings:
        return Group(summary_panel(data), Text("No findings match."))
    return Group(summary_panel(data), findings_by_check(data))


def render(data: ReportData) -> str:
    """The console report as plain text: same layout, no colours or escape codes."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=FILE_WIDTH,
        color_system=None,
        force_terminal=False,
        no_color=True,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )
    console.print(renderable(data))
    return out.getvalue()


FORMAT = Format(name="console", extension="txt", media_type="text/plain", render=render)
