"""Ingest Azure Activity Log exports from local files and folders into the lake.

A folder is walked for `*.json` files (a diagnostic setting's storage export nests them as
`insights-activity-logs/resourceId=/SUBSCRIPTIONS/<id>/y=…/m=…/d=…/h=…/m=00/PT1H.json`). A file
is JSON Lines (one record per line, the export format), or one JSON document: a list of
records, `{"records": [...]}` (Event Hubs) or `{"value": [...]}` (the REST API). A line that is
not a record is counted as rejected with its reason; the file's other records still load.
Records already in the lake (same record id) are skipped, so re-ingesting is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opencwpp.core.errors import UsageError
from opencwpp.core.text import json_loads, storable_text
from opencwpp.detect.azure.records import RecordError, to_row
from opencwpp.detect.azure.table import ACTIVITY_EVENTS
from opencwpp.detect.ingest.records import DEFAULT_MAX_FILE_BYTES, too_big
from opencwpp.lake import Lake

MAX_RECORD_BYTES = 1_000_000
_CHUNK = 500


@dataclass
class FileResult:
    """What one file gave."""

    path: str
    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def reject(self, reason: str) -> None:
        """Counts a record that could not be read."""
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


def list_files(paths: Iterable[str]) -> list[Path]:
    """The files named, and every `*.json` under the folders named, in a stable order."""
    out: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".json")
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(f"{text}: no such file or folder")
    return list(dict.fromkeys(out))


def _records(text: str, result: FileResult) -> Iterator[Mapping[str, Any]]:
    try:
        document = json_loads(text)  # one document; JSON Lines fail here ("Extra data")
    except json.JSONDecodeError:
        document = None
    if isinstance(document, list):
        yield from _mappings(document, result)
        return
    if isinstance(document, Mapping):
        for key in ("records", "value"):
            if isinstance(document.get(key), list):
                yield from _mappings(document[key], result)
                return
        yield document
        return
    for line in text.splitlines():
        if not line.strip():
            continue
        if len(line) > MAX_RECORD_BYTES:
            result.reject("record too large")
            continue
        try:
            item = json_loads(line)
        except json.JSONDecodeError:
            result.reject("not JSON")
            continue
        if isinstance(item, Mapping):
            yield item
        else:
            result.reject("not a JSON object")


def _mappings(items: list[Any], result: FileResult) -> Iterator[Mapping[str, Any]]:
    for item in items:
        if isinstance(item, Mapping):
            yield item
        else:
            result.reject("not a JSON object")


def _existing(lake: Lake, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = lake.query(
            f"SELECT record_id FROM {ACTIVITY_EVENTS.name} WHERE record_id IN ({marks})", chunk
        )
        found.update(str(r["record_id"]) for r in rows)
    return found


def ingest_file(lake: Lake, path: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> FileResult:
    """Loads one file's new records; a file that cannot be read is reported, not raised."""
    shown = storable_text(str(path))  # a name that is not UTF-8: its odd bytes as `\xff`
    result = FileResult(shown)
    try:
        if path.stat().st_size > max_file_bytes:  # read whole, it would take as much memory
            result.error = too_big(max_file_bytes)
            return result
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        result.error = f"cannot read: {err.strerror}"
        return result
    except UnicodeDecodeError:
        result.error = "not UTF-8 text"
        return result
    rows: dict[str, dict[str, Any]] = {}
    now = datetime.now(UTC).replace(tzinfo=None)
    for record in _records(text, result):
        result.read += 1
        try:
            row = to_row(record, shown)
        except RecordError as err:
            result.reject(str(err))
            continue
        if row["record_id"] in rows:
            result.duplicates += 1
            continue
        digest = hashlib.md5(row["record_id"].encode(), usedforsecurity=False).hexdigest()
        rows[row["record_id"]] = {**row, "_cq_id": str(uuid.UUID(digest)), "ingested_at": now}
    seen = _existing(lake, list(rows)) if rows else set()
    fresh = [r for key, r in rows.items() if key not in seen]
    result.duplicates += len(rows) - len(fresh)
    with lake.transaction():
        result.inserted = lake.insert_rows(ACTIVITY_EVENTS, fresh)
    return result


def ingest_paths(
    lake: Lake, paths: Iterable[str], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> list[FileResult]:
    """Ingests every file under the paths; UsageError when a path does not exist."""
    files = list_files(paths)
    lake.ensure_tables([ACTIVITY_EVENTS])
    return [ingest_file(lake, f, max_file_bytes) for f in files]
