"""Fast bulk inserts into the lake.

DuckDB binds large parameter lists slowly, so there rows go through a temporary
newline-delimited JSON file read by `read_json`; PostgreSQL uses COPY (`Lake.insert_values`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from opencwpp.lake.lake import Lake
from opencwpp.lake.schema import JSON, SQL_TYPES, TIMESTAMP, Table


def _value(value: Any, arrow_type: str) -> Any:
    if value is None:
        return None
    if arrow_type == JSON:
        return json.dumps(value, default=str, sort_keys=True)
    if arrow_type == TIMESTAMP and isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _duckdb_insert(lake: Lake, tbl: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    names = tbl.column_names
    types = {n: tbl.column_type(n) for n in names}
    sql_types = SQL_TYPES["duckdb"]
    # JSON columns travel as text; everything else in its own type.
    columns = ", ".join(
        f"'{n}': '{'VARCHAR' if types[n] == JSON else sql_types[types[n]]}'" for n in names
    )
    fd, path = tempfile.mkstemp(suffix=".ndjson", prefix="cwpp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for row in rows:
                rec = {n: _value(row.get(n), types[n]) for n in names}
                out.write(json.dumps(rec, default=str) + "\n")
        literal = path.replace("'", "''")
        cols = ", ".join(f'"{n}"' for n in names)
        select = ", ".join(f'CAST("{n}" AS JSON)' if types[n] == JSON else f'"{n}"' for n in names)
        lake.execute(
            f'INSERT INTO "{tbl.name}" ({cols}) SELECT {select} FROM read_json('
            f"'{literal}', format = 'newline_delimited', columns = {{{columns}}})"
        )
    finally:
        os.unlink(path)


def insert_many(lake: Lake, tbl: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Inserts rows (missing columns NULL); returns how many."""
    if not rows:
        return 0
    if lake.dialect == "duckdb":
        _duckdb_insert(lake, tbl, rows)
        return len(rows)
    names = tbl.column_names
    types = [tbl.column_type(n) for n in names]
    return lake.insert_values(
        tbl, [[_value(r.get(n), t) for n, t in zip(names, types, strict=True)] for r in rows]
    )
