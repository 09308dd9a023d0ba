"""Every table of the lake by name, collected or loaded by an analysis.

The inventory comes from the collectors (with `cwpp_sync_scopes`, what each sync covered);
advisories, end-of-life dates and CloudTrail events are
loaded by their analyses.

Checks may read any of them; their cases and `cwpp checks test` build tables from this catalog.
"""

from __future__ import annotations

from opencwpp.collect.azure.base import azure_tables
from opencwpp.collect.base import all_tables
from opencwpp.collect.sync import SYNC_SCOPES
from opencwpp.detect.ingest.table import EVENTS
from opencwpp.lake.schema import Table
from opencwpp.vuln.tables import DB_TABLES, PACKAGES


def lake_tables() -> dict[str, Table]:
    """All table models, by name."""
    tables = dict(all_tables())
    for name, tbl in azure_tables().items():
        tables.setdefault(name, tbl)
    for tbl in (SYNC_SCOPES, *DB_TABLES, PACKAGES, EVENTS):
        tables.setdefault(tbl.name, tbl)
    return tables
