"""CloudTrail files to event rows, in Python: the portable path, and the salvage path.

A file is `{"Records": [...]}` (what CloudTrail delivers), a JSON array, NDJSON, or one record;
gzip or plain. Every record that cannot be used is counted with its reason, never dropped
silently; a file whose bytes cannot be read at all raises `BadFile`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from isal import isal_zlib

from opencwpp.core.text import json_loads
from opencwpp.detect.ingest.table import JSON_FIELDS, MOVED_KEYS, SCALAR_FIELDS

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_RECORD_BYTES = 1024 * 1024
# A file's size once decompressed; CloudTrail's are a few MB at most.
DEFAULT_MAX_FILE_BYTES = 1024 * 1024 * 1024
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
REQUIRED = ("eventID", "eventName", "eventSource")


@dataclass(frozen=True, slots=True)
class Limits:
    """How large one record, and one file once decompressed, may be (bytes)."""

    record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    file_bytes: int = DEFAULT_MAX_FILE_BYTES


class BadFile(Exception):
    """The file as a whole cannot be read (corrupt gzip, not JSON, truncated)."""


@dataclass
class ParsedFile:
    """What one file gave: usable rows, rejected records by reason, and a file-level error."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    error: str = ""


class FileTooBig(BadFile):
    """The file is over the size limit once decompressed (see `decompress`)."""


def too_big(max_file_bytes: int) -> str:
    """Why a file over the size limit is not read."""
    return f"over {max_file_bytes:,} bytes, decompressed (raise --max-file-bytes if it is real)"


def decompress(data: bytes, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """The file's bytes, gunzipped (every member) when they start with the gzip magic.

    Inflating stops past `max_file_bytes` (`FileTooBig`): a few MB of gzip can hold many GB (a
    gzip bomb), and whoever can write into a trail's bucket could stop every ingestion with
    one. ISA-L inflates in under half zlib's time (0.40 vs 0.88 CPU s for 200,000 events), and
    releases the GIL as zlib does, so the scanner's threads gunzip on every core.
    """
    if not data.startswith(GZIP_MAGIC):
        if len(data) > max_file_bytes:
            raise FileTooBig(too_big(max_file_bytes))
        return data
    parts: list[bytes] = []
    size = 0
    while data:
        inflater = isal_zlib.decompressobj(wbits=31)
        try:
            part = inflater.decompress(data, max_file_bytes - size + 1)
        except isal_zlib.error as err:  # type: ignore[misc]  # isal's stub: an instance
            raise BadFile(f"corrupt gzip: {err}") from err
        size += len(part)
        if size > max_file_bytes:
            raise FileTooBig(too_big(max_file_bytes))
        if not inflater.eof:
            raise BadFile("corrupt gzip: compressed file ended before the end-of-stream marker")
        parts.append(part)
        data = inflater.unused_data.lstrip(b"\0")  # gzip allows zero padding after a member
        if data and not data.startswith(GZIP_MAGIC):
            raise BadFile("corrupt gzip: trailing data that is not gzip")
    return b"".join(parts)


def _records(text: str, parsed: ParsedFile) -> list[Any]:
    stripped = text.lstrip()
    if not stripped:
        raise BadFile("empty file")
    if stripped[0] not in "[{":
        raise BadFile("not JSON (does not start with '{' or '[')")
    try:
        whole = json_loads(stripped)
    except json.JSONDecodeError as err:
        if stripped[0] == "[" or "\n" not in stripped.strip():
            raise BadFile(f"invalid or truncated JSON: {err}") from err
        return _ndjson(stripped, parsed)
    if isinstance(whole, list):
        return whole
    if isinstance(whole, dict) and isinstance(whole.get("Records"), list):
        return list(whole["Records"])
    return [whole]


def _ndjson(text: str, parsed: ParsedFile) -> list[Any]:
    out: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json_loads(line))
        except json.JSONDecodeError as err:
            parsed.rejected["invalid JSON line"] += 1
            if not parsed.error:
                parsed.error = f"line {number}: invalid or truncated JSON ({err.msg})"
    return out


def _path(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def parse_time(value: Any) -> datetime | None:
    """CloudTrail's ISO 8601 eventTime as a naive UTC datetime (None when unparseable)."""
    if not isinstance(value, str):
        return None
    text = _LONG_FRACTION.sub(r"\1", value.strip().replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def rejection(record: Any, raw: str, max_bytes: int) -> str:
    """Why a record is not a usable CloudTrail event ('' when it is)."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if len(raw) > max_bytes:
        return f"record over {max_bytes} bytes"
    if any(not isinstance(record.get(key), str) or not record[key] for key in REQUIRED):
        return "not a CloudTrail record (no eventID/eventName/eventSource)"
    if parse_time(record.get("eventTime", record.get("@timestamp"))) is None:
        return "no valid eventTime"
    return ""


_MOVED = {key for _, key in MOVED_KEYS}


def rest_of_record(record: dict[str, Any]) -> str:
    """The `raw` column: the record less the keys whose non-null value has its own column."""
    rest = {k: v for k, v in record.items() if k not in _MOVED or v is None}
    return json.dumps(rest, sort_keys=True)


def full_record(row: dict[str, Any]) -> dict[str, Any]:
    """The CloudTrail record of a stored row: `raw` with the moved columns put back.

    Keys come back in another order than delivered; a text field whose value was not a JSON
    string (never seen in CloudTrail) comes back as its text.
    """
    record: dict[str, Any] = dict(_json_value(row.get("raw")) or {})
    for column, key in MOVED_KEYS:
        value = row.get(column)
        if value is not None:
            record[key] = _json_value(value) if (column, key) in JSON_FIELDS else value
    return record


def _json_value(value: Any) -> Any:
    """A JSON column's value: DuckDB gives its text, PostgreSQL the decoded value."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:  # PostgreSQL's decoded JSON string
        return value


def to_row(record: dict[str, Any], raw: str, source: str, now: datetime) -> dict[str, Any]:
    """One validated record as an `aws_cloudtrail_events` row (`raw`: see `rest_of_record`)."""
    row: dict[str, Any] = {"source": source, "ingested_at": now, "raw": rest_of_record(record)}
    for column, kind, dotted in SCALAR_FIELDS:
        value = _path(record, dotted)
        if kind == "bool":
            row[column] = _bool(value)
        elif column == "event_time":
            row[column] = parse_time(value if value is not None else record.get("@timestamp"))
        else:
            row[column] = _text(value)
    for column, key in JSON_FIELDS:
        value = record.get(key)
        row[column] = None if value is None else json.dumps(value, sort_keys=True)
    return row


def parse_file(
    data: bytes,
    source: str,
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> ParsedFile:
    """Parses one file's bytes into rows; raises `BadFile` when nothing in it is readable."""
    parsed = ParsedFile()
    try:
        text = decompress(data, max_file_bytes).decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadFile(f"not UTF-8 text: {err.reason}") from err
    now = datetime.now(UTC).replace(tzinfo=None)
    for record in _records(text, parsed):
        raw = json.dumps(record, sort_keys=True)
        reason = rejection(record, raw, max_bytes)
        if reason:
            parsed.rejected[reason] += 1
            continue
        parsed.rows.append(to_row(record, raw, source, now))
    return parsed
