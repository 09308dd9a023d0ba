"""Our own tables: runs, the current state of every finding, and the history of findings.

`cwpp_findings` holds the current state of every finding id; `cwpp_finding_history` appends one
row per finding per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from opencwpp.lake.schema import INT64, JSON, TIMESTAMP, Column, Table

NEW, OPEN, RESOLVED = "NEW", "OPEN", "RESOLVED"
GONE_REASON = "the resource is no longer present"


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
FINDINGS = _own_table(
    "cwpp_findings",
    [
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
    ],
    ["finding_id"],
)
HISTORY = _own_table(
    "cwpp_finding_history",
    ["run_id", "finding_id", "check_id", "status", "lifecycle", "severity", ("seen_at", TIMESTAMP)],
    ["run_id", "finding_id"],
)
OWN_TABLES = (RUNS, FINDINGS, HISTORY)


def own_tables(dialect: str) -> tuple[Table, ...]:
    """Our tables as created on `dialect`.

    DuckDB gets no primary key on findings and history: its index makes writing a million
    findings some twenty times slower, and every write path keeps finding ids unique itself.
    """
    if dialect != "duckdb":
        return OWN_TABLES
    return (RUNS, replace(FINDINGS, primary_key=()), replace(HISTORY, primary_key=()))
