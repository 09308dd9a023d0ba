"""What the advisory imports share: the result record and the table-replacing write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opencwpp.lake.lake import Lake
from opencwpp.lake.schema import Table
from opencwpp.vuln.bulk import insert_many
from opencwpp.vuln.tables import DB_TABLES, SOURCES


@dataclass
class ImportResult:
    """What one input gave: its kind, how many records landed, and the problems met."""

    source: str
    kind: str
    records: int = 0
    problems: list[str] = field(default_factory=list)


def now() -> datetime:
    """UTC now, naive (as the lake stores timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None)


def record_source(lake: Lake, result: ImportResult, when: datetime) -> None:
    """Notes in `cwpp_vuln_sources` what was imported from where (replacing that source)."""
    lake.execute("DELETE FROM cwpp_vuln_sources WHERE source = ?", [result.source])
    insert_many(
        lake,
        SOURCES,
        [
            {
                "source": result.source,
                "kind": result.kind,
                "records": result.records,
                "problems": len(result.problems),
                "imported_at": when,
            }
        ],
    )


def replace_table(lake: Lake, tbl: Table, rows: list[dict[str, Any]], result: ImportResult) -> None:
    """Replaces a whole feed table (KEV, EPSS, EOL) with `rows` in one transaction."""
    lake.ensure_tables(DB_TABLES)
    when = now()
    with lake.transaction():
        lake.execute(f'DELETE FROM "{tbl.name}"')
        result.records = insert_many(lake, tbl, rows)
        record_source(lake, result, when)
