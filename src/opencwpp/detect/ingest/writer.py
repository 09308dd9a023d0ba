"""Writing event rows and the ingest state: deduplicated on eventID, on any backend."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from opencwpp.detect.ingest.table import EVENTS, INGEST_STATE, events_table
from opencwpp.lake.lake import Lake

_CHUNK = 10_000  # ids or URIs a query
SOURCE_NAME = "cloudtrail"
# Where the Python path's rows are copied on PostgreSQL before they are inserted (see below).
_STAGE = replace(EVENTS, name="cwpp_events_stage", primary_key=())


def event_cq_id(event_id: str) -> str:
    """The row's `_cq_id`: a UUID from the MD5 of the eventID (same in SQL and Python)."""
    return str(uuid.UUID(hashlib.md5(event_id.encode(), usedforsecurity=False).hexdigest()))


def existing_ids(lake: Lake, ids: Sequence[str]) -> set[str]:
    """Which of these eventIDs the lake already holds."""
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        rows = lake.query(
            f"SELECT event_id FROM {EVENTS.name} WHERE event_id {_among(lake)}", [chunk]
        )
        found.update(str(r["event_id"]) for r in rows)
    return found


def _among(lake: Lake) -> str:
    """SQL: the column is one of the texts in the list bound to `?`.

    One list parameter, not one placeholder a value: psycopg rewrites a statement per
    placeholder, which cost more than the query did.
    """
    return "= ANY(?)" if lake.dialect == "postgres" else "IN (SELECT unnest(CAST(? AS VARCHAR[])))"


def insert_events(lake: Lake, rows: list[dict[str, Any]]) -> int:
    """Inserts the rows whose eventID is new (in the lake and in `rows`); returns how many."""
    if not rows:
        return 0
    seen = existing_ids(lake, [r["event_id"] for r in rows])
    fresh: list[dict[str, Any]] = []
    for row in rows:
        if row["event_id"] in seen:
            continue
        seen.add(row["event_id"])
        fresh.append(row)
    names = EVENTS.column_names
    now = datetime.now(UTC).replace(tzinfo=None)
    values = []
    for row in fresh:
        row = {
            **row,
            "_cq_id": event_cq_id(row["event_id"]),
            "_cq_source_name": SOURCE_NAME,
            "_cq_sync_time": now,
        }
        values.append([row.get(n) for n in names])
    if lake.dialect != "postgres":
        # No key on DuckDB's table, and one process writes a lake file at a time.
        lake.insert_values(events_table(lake.dialect), values)
        return len(fresh)
    # The ids were checked above; on PostgreSQL the key also guards against a concurrent run,
    # which COPY cannot: the rows are copied to a temporary table and inserted from there.
    lake.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE.name} (LIKE {EVENTS.name})")
    lake.execute(f"TRUNCATE {_STAGE.name}")
    lake.insert_values(_STAGE, values)
    lake.execute(
        f"INSERT INTO {EVENTS.name} SELECT * FROM {_STAGE.name} ON CONFLICT (event_id) DO NOTHING"
    )
    lake.execute(f"TRUNCATE {_STAGE.name}")
    return len(fresh)


def done_files(lake: Lake) -> dict[str, tuple[int, str]]:
    """The files already ingested: URI → (size, etag)."""
    rows = lake.query("SELECT source_uri, size, etag FROM cwpp_ingest_state")
    return {str(r["source_uri"]): (int(r["size"] or 0), str(r["etag"] or "")) for r in rows}


def ingested_uris(lake: Lake) -> list[str]:
    """The URIs of every file ingested so far (none when nothing was)."""
    if not lake.table_exists("cwpp_ingest_state"):
        return []
    return [str(r["source_uri"]) for r in lake.query("SELECT source_uri FROM cwpp_ingest_state")]


def mark_done(lake: Lake, entries: list[dict[str, Any]]) -> None:
    """Remembers files as ingested (replacing an older entry for the same URI)."""
    if not entries:
        return
    uris = [e["source_uri"] for e in entries]
    for start in range(0, len(uris), _CHUNK):
        chunk = uris[start : start + _CHUNK]
        lake.execute(f"DELETE FROM {INGEST_STATE.name} WHERE source_uri {_among(lake)}", [chunk])
    names = INGEST_STATE.column_names
    lake.insert_values(INGEST_STATE, [[e.get(n) for n in names] for e in entries])
