"""What the advisory database holds: sources with age, downloads, and record counts per table."""

from __future__ import annotations

from typing import Any

from opencwpp.lake.lake import Lake
from opencwpp.vuln.osv.update import UPDATES
from opencwpp.vuln.tables import DB_TABLES, SOURCES


def db_status(lake: Lake) -> dict[str, Any]:
    """{"sources": [cwpp_vuln_sources rows], "updates": [per downloaded source], "counts": {…}}.

    `updates` has one row per source `vuln db update` fetched: name, URL, last successful
    update time and the records it gave.
    """
    lake.ensure_tables((*DB_TABLES, UPDATES))
    sources = lake.query(f"SELECT * FROM {SOURCES.name} ORDER BY kind, source")
    updates = lake.query(
        f"SELECT name, kind, url, records, problems, updated_at, checked_at "
        f"FROM {UPDATES.name} ORDER BY kind, name"
    )
    counts = {
        t.name: int(lake.query(f'SELECT count(*) AS n FROM "{t.name}"')[0]["n"])
        for t in DB_TABLES
        if t is not SOURCES
    }
    return {"sources": sources, "updates": updates, "counts": counts}
