"""The DuckDB fast path: whole batches of files parsed, validated and inserted in bulk.

Parsing JSON in Python costs ~20 µs a record. Here the C scanner (`scan`) reads each file once
on every core into Arrow columns that DuckDB inserts without a copy; a file it does not take
(anything unusual) is read by DuckDB's own JSON reader instead (one call for those files, a
file per thread). In one transaction, records are classified with the same rules as the Python
path (`records.rejection`) and inserted in one statement per source: the fresh ones -- valid,
not in the lake (anti-join on event_id) -- as rows, the others as markers that give the
per-file counts and are deleted with the later copies of an event id the batch holds twice (see
`load_batch`). `raw` holds the rest of the record only (see `table`), so each record is written
once. A batch DuckDB cannot read raises `duckdb.Error`; the caller then retries the files one by
one and falls back to the Python path, which reports exactly what is wrong with a file.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opencwpp.detect.ingest import scan
from opencwpp.detect.ingest.records import DEFAULT_MAX_FILE_BYTES, GZIP_MAGIC, too_big
from opencwpp.detect.ingest.table import EVENTS, JSON_FIELDS, MOVED_KEYS, SCALAR_FIELDS
from opencwpp.detect.ingest.writer import SOURCE_NAME
from opencwpp.lake.lake import Lake

_RECORDS_HEAD = re.compile(rb'^\s*\{\s*"Records"\s*:')
_MIN_OBJECT = 16 * 1024 * 1024
_IDENTITY = "userIdentity."
_SCANNED = "cwpp_scanned_files"


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file on disk to load, under the URI it is reported and remembered by."""

    uri: str
    path: Path
    downloaded: bool = False  # a copy of a remote file (S3 object, LookupEvents window)


@dataclass
class BulkCounts:
    """Per URI: records read, inserted, and rejected by reason."""

    read: Counter[str] = field(default_factory=Counter)
    inserted: Counter[str] = field(default_factory=Counter)
    rejected: dict[str, Counter[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # URI → why it was not read at all


def sniff(path: Path) -> tuple[str, str, int]:
    """(format, compression, decompressed size) of a file, from its first bytes."""
    with path.open("rb") as handle:
        magic = handle.read(2)
    compression = "gzip" if magic == GZIP_MAGIC else "none"
    if compression == "gzip":
        with gzip.open(path, "rb") as zipped:
            head = zipped.read(4096)
        with path.open("rb") as handle:
            handle.seek(-4, 2)
            size = int.from_bytes(handle.read(4), "little")  # ISIZE: size modulo 2**32
    else:
        with path.open("rb") as handle:
            head = handle.read(4096)
        size = path.stat().st_size
    stripped = head.lstrip()
    if _RECORDS_HEAD.match(head):
        return "records", compression, size
    if stripped.startswith(b"["):
        return "array", compression, size
    return "auto", compression, size


def _schema(prefix: str) -> str:
    """A `json_transform` structure: the typed fields under `prefix` as text, else JSON.

    With prefix "" it is the record (nested parts, `userIdentity` included, stay JSON); with
    "userIdentity." it is the identity's fields, parsed from that small JSON a second time.
    """
    tree: dict[str, Any] = {}
    for _, _, dotted in SCALAR_FIELDS:
        if not dotted.startswith(prefix) or (not prefix and dotted.startswith(_IDENTITY)):
            continue
        *parents, leaf = dotted.removeprefix(prefix).split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = "VARCHAR"
    if not prefix:
        for _, key in JSON_FIELDS:
            tree.setdefault(key, "JSON")
        tree["@timestamp"] = "VARCHAR"
    return json.dumps(tree)


def _field(dotted: str) -> str:
    if dotted.startswith(_IDENTITY):
        return "u" + "".join(f'."{part}"' for part in dotted.removeprefix(_IDENTITY).split("."))
    return "t" + "".join(f'."{part}"' for part in dotted.split("."))


def _rest_of_record() -> str:
    """SQL for `raw`: the record less the keys whose non-null value has its own column.

    A JSON merge patch setting a key to null removes it; the patch names only the keys that
    were not null, so an explicit `"requestParameters": null` stays in `raw`.
    """
    keys = [f'CASE WHEN t."{key}" IS NOT NULL THEN \'"{key}":null\' END' for _, key in MOVED_KEYS]
    return f"json_merge_patch(j, ('{{' || concat_ws(',', {', '.join(keys)}) || '}}')::JSON)"


def _typed(name: str, kind: str, text: str) -> str:
    """A scalar column from its text: event_time a timestamp, booleans, the rest as is."""
    if name == "event_time":
        return f"CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP) AS {name}"
    if kind == "bool":
        return f"TRY_CAST({text} AS BOOLEAN) AS {name}"
    return f"{text} AS {name}"


def _reason(not_object: str, length: str, max_bytes: int) -> str:
    """SQL: why a record is rejected ('' when it is not), from the columns and its length."""
    return (
        f"CASE WHEN {not_object} THEN 'not a JSON object' "
        f"WHEN {length} > {int(max_bytes)} THEN 'record over {int(max_bytes)} bytes' "
        "WHEN COALESCE(event_id, '') = '' OR COALESCE(event_name, '') = '' "
        "OR COALESCE(event_source, '') = '' "
        "THEN 'not a CloudTrail record (no eventID/eventName/eventSource)' "
        "WHEN event_time IS NULL THEN 'no valid eventTime' ELSE '' END"
    )


def _select_columns(max_bytes: int) -> tuple[str, str, str]:
    """(the parse of each record, the columns from it, the rejection reason).

    One `json_transform` per record parses it once into a struct of every field we keep (the
    nested parts stay JSON); the columns are then plain struct field reads.
    """
    extract = f"json_transform(j, '{_schema('')}') AS t"
    cols = []
    for name, kind, dotted in SCALAR_FIELDS:
        text = _field(dotted)
        if name == "event_time":
            text = f'COALESCE({text}, t."@timestamp")'
        cols.append(_typed(name, kind, text))
    for name, key in JSON_FIELDS:
        cols.append(f't."{key}" AS {name}')
    cols.append(f"CASE WHEN t IS NOT NULL THEN {_rest_of_record()} END AS raw")
    reason = _reason(
        # The readers strip the whitespace around a value: ltrim (a copy) is a fallback only.
        "NOT (starts_with(CAST(j AS VARCHAR), '{') OR starts_with(ltrim(CAST(j AS VARCHAR)), '{'))",
        "strlen(CAST(j AS VARCHAR))",
        max_bytes,
    )
    return extract, ", ".join(cols), reason


def _scanned_records(view: str, max_bytes: int) -> str:
    """SQL yielding the parsed records of scanned files (see `scan.ScannedFiles`)."""
    cols = []
    for name, kind, _ in SCALAR_FIELDS:
        text = f"COALESCE(s.{name}, s.{scan.AT_TIMESTAMP})" if name == "event_time" else f"s.{name}"
        cols.append(_typed(name, kind, text))
    cols += [f"s.{name}" for name, _ in JSON_FIELDS] + ["s.raw"]
    reason = _reason("is_object = 0", "nbytes", max_bytes)
    return (
        f"SELECT *, {reason} AS reason FROM (SELECT s.source AS src, s.is_object, s.nbytes, "
        f"{', '.join(cols)} FROM {view} AS s) AS scanned"
    )


def _reader(fmt: str, compression: str, max_object: int) -> str:
    """SQL yielding (src, j): each record of the files bound to `?` as JSON text.

    `{"Records": [...]}` files are read with `read_json` and the array typed `JSON[]`: one
    parse per file (extracting `$.Records[*]` from `read_json_objects` parsed it twice).
    """
    common = f"filename=true, compression='{compression}', maximum_object_size={int(max_object)}"
    if fmt == "records":
        return (
            "SELECT filename AS src, unnest(Records) AS j FROM read_json(?, format='unstructured', "
            f"records=true, columns={{'Records': 'JSON[]'}}, {common})"
        )
    return f"SELECT filename AS src, json AS j FROM read_json_objects(?, format='{fmt}', {common})"


def _read_records(fmt: str, compression: str, largest: int, max_bytes: int) -> str:
    """SQL yielding the parsed records of the files bound to `?`, read by DuckDB's reader."""
    max_object = (
        max(_MIN_OBJECT, largest + 1024) if fmt == "records" else max(_MIN_OBJECT, 2 * max_bytes)
    )
    extract, columns, reason = _select_columns(max_bytes)
    reader = (
        f"SELECT f.uri AS src, r.j FROM ({_reader(fmt, compression, max_object)}) AS r "
        "JOIN cwpp_stage_files AS f ON f.path = r.src"
    )
    return (
        f"SELECT *, {reason} AS reason FROM (SELECT src, j, {columns} FROM (SELECT src, j, t, "
        f"json_transform(t.\"userIdentity\", '{_schema(_IDENTITY)}') AS u FROM "
        f"(SELECT src, j, {extract} FROM ({reader}))))"
    )


def load_batch(
    lake: Lake, files: list[LocalFile], max_bytes: int, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> BulkCounts:
    """Loads files of one format and compression in one go; raises `duckdb.Error` on bad input.

    The parsed records go straight into the events table, in one transaction: a record that
    is new gets its row; a rejected record, or one whose event id the lake already holds, gets
    a marker row (event_id NULL, `raw` the rejection reason as a JSON string, '' for a
    duplicate, every other column NULL). Markers give the per-file counts and are deleted
    before the commit, with the later copies of an event id that occurs twice in the batch.
    Staging the parsed records in a table first cost a third of the parse again. Scanned files
    and files read by DuckDB's reader are inserted by two statements; the anti-join leaves this
    batch's rows out, so a copy in each is handled as two copies in one statement would be.
    """
    sniffed = [sniff(f.path) for f in files]
    fmts = {(fmt, comp) for fmt, comp, _ in sniffed}
    if len(fmts) != 1:
        raise ValueError("load_batch needs files of one format and compression")
    ((fmt, compression),) = fmts
    result = scan.scan_files([(f.path, f.uri) for f in files], fmt, compression, max_file_bytes)
    scanned, left = result.scanned, result.left
    names = [n for n, _, _ in SCALAR_FIELDS] + [n for n, _ in JSON_FIELDS]
    lake.execute("CREATE OR REPLACE TEMP TABLE cwpp_stage_files (path VARCHAR, uri VARCHAR)")
    params = [v for i in left for v in (str(files[i].path), files[i].uri)]
    if left:
        lake.execute(
            "INSERT INTO cwpp_stage_files VALUES " + ", ".join("(?, ?)" for _ in left), params
        )
    # This batch's rows: now() is the transaction's start, which no committed row shares
    # (checked first: a clock set back could repeat it). The anti-join leaves them out, so the
    # copies of an event in scanned and in read files are treated alike (see below).
    this_batch = "ingested_at = now()::TIMESTAMP"
    batch = f"{EVENTS.name} WHERE {this_batch}"
    new = (
        f"reason = '' AND NOT EXISTS (SELECT 1 FROM {EVENTS.name} AS e "
        f"WHERE e.event_id = p.event_id AND NOT COALESCE(e.{this_batch}, false))"
    )
    columns = ["_cq_id", *names, "raw", "source", "ingested_at", "_cq_source_name", "_cq_sync_time"]
    values = [
        "CAST(md5(event_id) AS UUID)",
        *names,
        "raw",
        "src",
        "now()::TIMESTAMP",
        f"'{SOURCE_NAME}'",
        "now()::TIMESTAMP",
    ]
    # A marker row: the reason in raw, where the record came from, and NULL for the rest.
    marker = {
        c: "to_json(reason)" if c == "raw" else "NULL" if c == "_cq_id" or c in names else v
        for c, v in zip(columns, values, strict=True)
    }

    picked = [
        v if marker[c] == v else f"CASE WHEN new THEN {v} ELSE {marker[c]} END"
        for c, v in zip(columns, values, strict=True)
    ]

    def insert(parsed: str, params: list[Any]) -> None:
        lake.execute(
            f"INSERT INTO {EVENTS.name} ({', '.join(columns)}) SELECT {', '.join(picked)} "
            f"FROM (SELECT *, {new} AS new FROM ({parsed}) AS p)",
            params,
        )

    counts = BulkCounts(failed={files[i].uri: too_big(max_file_bytes) for i in result.too_big})
    with lake.transaction():
        if lake.query(f"SELECT 1 AS hit FROM {batch} LIMIT 1"):
            raise ValueError("the lake already holds events ingested at this very time")
        if scanned is not None:
            with lake.arrow_view(_SCANNED, scanned):
                insert(_scanned_records(_SCANNED, max_bytes), [])
        if left:
            largest = max(sniffed[i][2] for i in left)
            insert(
                _read_records(fmt, compression, largest, max_bytes),
                [[str(files[i].path) for i in left]],
            )
        # Of an event id stored twice by this batch, the copy from the first file (by URI)
        # and first in it stays, as the Python path keeps the first.
        lake.execute(
            "CREATE OR REPLACE TEMP TABLE cwpp_later AS SELECT id FROM (SELECT rowid AS id, "
            "row_number() OVER (PARTITION BY event_id ORDER BY source, rowid) AS copy "
            f"FROM {batch} AND event_id IN (SELECT event_id FROM {batch} "
            "AND event_id IS NOT NULL GROUP BY event_id HAVING count(*) > 1)) WHERE copy > 1"
        )
        rows = lake.query(
            "SELECT source AS src, CASE WHEN event_id IS NULL THEN raw->>'$' ELSE '' END AS "
            "reason, count(*) AS n, count(event_id) - count(l.id) AS fresh FROM "
            f"(SELECT rowid AS row_id, source, event_id, raw FROM {batch}) AS b "
            "LEFT JOIN cwpp_later AS l ON l.id = b.row_id GROUP BY ALL"
        )
        lake.execute(
            f"DELETE FROM {batch} AND (event_id IS NULL OR rowid IN (SELECT id FROM cwpp_later))"
        )
        lake.execute("DROP TABLE cwpp_later")
    for row in rows:
        uri = str(row["src"])
        counts.read[uri] += int(row["n"])
        counts.inserted[uri] += int(row["fresh"])
        if row["reason"]:
            counts.rejected.setdefault(uri, Counter())[str(row["reason"])] += int(row["n"])
    return counts
