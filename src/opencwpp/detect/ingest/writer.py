"""Writing event rows and the ingest state: deduplicated on eventID, on any backend."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from opencwpp.detect.ingest.table import EVENTS, INGEST_STATE
from opencwpp.lake.lake import Lake

_CHUNK = 500
_ROWS = 100
SOURCE_NAME = "cloudtrail"


def event_cq_id(event_id: str) -> str:
    """The row's `_cq_id`: a UUID from the MD5 of the eventID (same in SQL and Python)."""
    return str(uuid.UUID(hashlib.md5(event_id.encode(), usedforsecurity=False).hexdigest()))


def existing_ids(lake: Lake, ids: Sequence[str]) -> set[str]:
    """Which of these eventIDs the lake already holds."""
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        marks = ", ".join("?" for _ in chunk)
        rows = lake.query(
            f"SELECT event_id FROM aws_cloudtrail_events WHERE event_id IN ({marks})", chunk
        )
        found.update(str(r["event_id"]) for r in rows)
    return found


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
    # The ids were checked above; on PostgreSQL the key also guards against a concurrent run.
    # (On DuckDB the table has no key, and one process writes a lake file at a time.)
    conflict = "ON CONFLICT (event_id) DO NOTHING" if lake.dialect == "postgres" else ""
    insert_values(lake, EVENTS.name, names, values, conflict)
    return len(fresh)


def insert_values(
    lake: Lake, table: str, names: list[str], values: list[list[Any]], suffix: str = ""
) -> None:
    """Multi-row INSERTs (one statement per 100 rows: DuckDB's executemany is row by row)."""
    cols = ", ".join(f'"{n}"' for n in names)
    row_marks = "(" + ", ".join("?" for _ in names) + ")"
    for start in range(0, len(values), _ROWS):
        chunk = values[start : start + _ROWS]
        marks = ", ".join(row_marks for _ in chunk)
        params = [value for row in chunk for value in row]
        lake.execute(f'INSERT INTO "{table}" ({cols}) VALUES {marks} {suffix}', params)


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
        marks = ", ".join("?" for _ in chunk)
        lake.execute(f"DELETE FROM cwpp_ingest_state WHERE source_uri IN ({marks})", chunk)
    names = INGEST_STATE.column_names
    insert_values(lake, INGEST_STATE.name, names, [[e.get(n) for n in names] for e in entries])
