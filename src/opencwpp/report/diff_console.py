"""A Rich table of a run diff for `cwpp diff` (untrusted text stays literal, see console.py)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from opencwpp.report.console import safe
from opencwpp.report.diff import Change, RunDiff

KIND_STYLES = {"NEW": "bold magenta", "RESOLVED": "green", "CHANGED": "yellow"}
SEVERITY_STYLES = {
    "critical": "bold white on dark_red",
    "high": "bold red",
    "medium": "dark_orange",
    "low": "yellow",
    "informational": "dim",
}


def _move(before: str | None, after: str) -> Text:
    if before is None or before == after:
        return safe(after)
    return Text.assemble(safe(before), (" → ", "dim"), safe(after))


def diff_table(diff: RunDiff, limit: int | None = None) -> Table:
    """New, resolved and changed findings, one row each, most severe first within each kind."""
    table = Table(
        title=Text.assemble("Changes from ", safe(diff.run_a), " to ", safe(diff.run_b)),
        header_style="bold",
    )
    for name in ("Change", "Severity", "Status", "Check", "Resource"):
        table.add_column(name, overflow="fold", no_wrap=name in ("Change", "Severity"))
    rows: list[tuple[str, Change]] = (
        [("NEW", c) for c in diff.new]
        + [("RESOLVED", c) for c in diff.resolved]
        + [("CHANGED", c) for c in diff.changed]
    )
    for kind, c in rows[:limit] if limit else rows:
        table.add_row(
            Text(kind, style=KIND_STYLES[kind]),
            Text(c.after_severity, style=SEVERITY_STYLES.get(c.after_severity, "")),
            _move(c.before_status, c.after_status),
            safe(c.check_id),
            safe(c.resource or c.finding_id),
        )
    return table


def diff_summary(diff: RunDiff) -> str:
    """One line: how many findings are new, resolved and changed."""
    return f"{len(diff.new)} new, {len(diff.resolved)} resolved, {len(diff.changed)} changed"
