"""Inventory the detections join with, as views over whichever inventory tables the lake holds.

Detections are fixed SQL; the inventory behind them may or may not have been collected. A
temporary view with a fixed shape, present while the detections run, lets the same SQL run
either way (and, being dropped after, never stops anyone dropping an inventory table).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opencwpp.lake.lake import Lake

# (account_id): the Organization's accounts and the AWS accounts synced into the lake.
KNOWN_ACCOUNTS = "cwpp_known_accounts"
_SOURCES = {
    "aws_organizations_accounts": (
        "SELECT CAST(id AS VARCHAR) AS account_id FROM aws_organizations_accounts"
    ),
    "cwpp_sync_scopes": (
        "SELECT CAST(account_id AS VARCHAR) AS account_id FROM cwpp_sync_scopes "
        "WHERE _cq_source_name = 'aws'"
    ),
}


@contextmanager
def known_accounts(lake: Lake) -> Iterator[None]:
    """`cwpp_known_accounts` over the inventory tables the lake holds, for this connection."""
    present = lake.table_names()
    parts = [sql for table, sql in _SOURCES.items() if table in present]
    body = " UNION ".join(parts) or "SELECT CAST(NULL AS VARCHAR) AS account_id WHERE 1 = 0"
    text = "text" if lake.dialect == "postgres" else "VARCHAR"
    with temporary_view(lake, KNOWN_ACCOUNTS, body.replace("VARCHAR", text)):
        yield


@contextmanager
def temporary_view(lake: Lake, name: str, body: str) -> Iterator[None]:
    """`name`, a temporary view of the SELECT `body` on this connection, while the block runs."""
    drop = f"DROP VIEW IF EXISTS {'pg_temp' if lake.dialect == 'postgres' else 'temp'}.{name}"
    lake.execute(drop)
    lake.execute(f"CREATE TEMP VIEW {name} AS {body}")
    try:
        yield
    finally:
        lake.execute(drop)
