"""Our own tables: runs, the current state of every finding, and the history of findings.

`cwpp_findings` is the current state of every finding id, a view: `cwpp_finding_state` holds
one row per finding, and `cwpp_check_meta` what every finding of a posture check shares (title,
severity, remediation, compliance references ...) once per check. A finding row whose metadata
columns are NULL takes them from its check's row; analyses that save `Finding` objects
(detections, vulnerabilities) keep theirs on the row. Writing a million findings then writes
no 650-byte remediation text a million times. `cwpp_finding_history` appends one row per
finding per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from opencwpp.lake.schema import INT64, JSON, TIMESTAMP, Column, Table

NEW, OPEN, RESOLVED = "NEW", "OPEN", "RESOLVED"
GONE_REASON = "the resource is no longer present"


def _name(column: tuple[str, str] | str) -> str:
    return column if isinstance(column, str) else column[0]


def _own_table(name: str, columns: Sequence[tuple[str, str] | str], key: Sequence[str]) -> Table:
    cols = tuple(Column(c) if isinstance(c, str) else Column(*c) for c in columns)
    return Table(name=name, columns=cols, primary_key=tuple(key), synced=False)


RUNS = _own_table(
    "cwpp_runs",
    [
        "run_id",
        "kind",
        ("started_at", TIMESTAMP),
        ("finished_at", TIMESTAMP),
        "status",
        ("summary", JSON),
    ],
    ["run_id"],
)
_FINDING_COLUMNS: list[tuple[str, str] | str] = [
    "finding_id",
    "check_id",
    "title",
    "pillar",
    "severity",
    ("severity_rank", INT64),
    "status",
    "status_reason",
    "lifecycle",
    "resource_uid",
    "resource_type",
    "account_id",
    "region",
    "resource_name",
    ("resource_tags", JSON),
    ("evidence", JSON),
    "remediation",
    ("compliance", JSON),
    ("mitre_attack", JSON),
    ("first_seen", TIMESTAMP),
    ("last_seen", TIMESTAMP),
    ("resolved_at", TIMESTAMP),
    "last_run_id",
]
# What a check shares with all its findings (and `cwpp_check_meta` holds once per check).
META_COLUMNS = (
    "title",
    "pillar",
    "severity",
    "severity_rank",
    "resource_type",
    "remediation",
    "compliance",
    "mitre_attack",
)
# The view readers use: every finding with all its fields (`findings_view_sql`).
FINDINGS = _own_table("cwpp_findings", _FINDING_COLUMNS, ["finding_id"])
# Where findings are written: the same columns, metadata NULL when the check's row has it.
FINDING_STATE = replace(FINDINGS, name="cwpp_finding_state")
CHECK_META = _own_table(
    "cwpp_check_meta",
    [c for c in _FINDING_COLUMNS if c == "check_id" or _name(c) in META_COLUMNS],
    ["check_id"],
)
HISTORY = _own_table(
    "cwpp_finding_history",
    ["run_id", "finding_id", "check_id", "status", "lifecycle", "severity", ("seen_at", TIMESTAMP)],
    ["run_id", "finding_id"],
)
OWN_TABLES = (RUNS, FINDING_STATE, CHECK_META, HISTORY)


def own_tables(dialect: str) -> tuple[Table, ...]:
    """Our tables as created on `dialect` (the view `cwpp_findings` comes after them).

    DuckDB gets no primary key on findings and history: its index makes writing a million
    findings some twenty times slower, and every write path keeps finding ids unique itself.
    """
    if dialect != "duckdb":
        return OWN_TABLES
    return (
        RUNS,
        replace(FINDING_STATE, primary_key=()),
        replace(CHECK_META, primary_key=()),
        replace(HISTORY, primary_key=()),
    )


def findings_view_sql() -> str:
    """The view `cwpp_findings`: each finding's row, its NULL metadata from its check's row."""
    meta = set(META_COLUMNS)
    columns = ", ".join(
        f"COALESCE(f.{c}, m.{c}) AS {c}" if c in meta else f"f.{c}" for c in FINDINGS.column_names
    )
    return (
        f"CREATE VIEW {FINDINGS.name} AS SELECT {columns} FROM {FINDING_STATE.name} AS f "
        f"LEFT JOIN {CHECK_META.name} AS m ON m.check_id = f.check_id"
    )
