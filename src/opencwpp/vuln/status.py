"""What the advisory database holds: sources with age, and record counts per table."""

from __future__ import annotations

from typing import Any

from opencwpp.lake.lake import Lake
from opencwpp.vuln.tables import DB_TABLES, SOURCES


def db_status(lake: Lake) -> dict[str, Any]:
    """{"sources": [rows of cwpp_vuln_sources], "counts": {table: rows}}."""
    lake.ensure_tables(DB_TABLES)
    sources = lake.query(f"SELECT * FROM {SOURCES.name} ORDER BY kind, source")
    counts = {
        t.name: int(lake.query(f'SELECT count(*) AS n FROM "{t.name}"')[0]["n"])
        for t in DB_TABLES
        if t is not SOURCES
    }
    return {"sources": sources, "counts": counts}
