"""The DuckDB fast path: DuckDB reads, validates and inserts whole batches of files itself.

Parsing JSON in Python costs ~20 µs a record; DuckDB's `read_json_objects` reads the gzip files
itself (one call for a batch of files, a file per thread) and parses in C++. In one
transaction, records are staged with their columns, classified with the same rules as the
Python path (`records.rejection`); the fresh ones -- valid, not in the lake (anti-join on
event_id), the first copy in the batch -- are inserted in one statement, and the per-file
counts come from the stage. `raw` holds the rest of the record only (see
`table`), so each record is written once. A batch DuckDB cannot read raises `duckdb.Error`;
the caller then retries the files one by one and falls back to the Python path, which reports
exactly what is wrong with a file.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opencwpp.detect.ingest.records import GZIP_MAGIC
from opencwpp.detect.ingest.table import EVENTS, JSON_FIELDS, MOVED_KEYS, SCALAR_FIELDS
from opencwpp.detect.ingest.writer import SOURCE_NAME
from opencwpp.lake.lake import Lake

_RECORDS_HEAD = re.compile(rb'^\s*\{\s*"Records"\s*:')
_MIN_OBJECT = 16 * 1024 * 1024
_IDENTITY = "userIdentity."


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file on disk to load, under the URI it is reported and remembered by."""

    uri: str
    path: Path


@dataclass
class BulkCounts:
    """Per URI: records read, inserted, and rejected by reason."""

    read: Counter[str] = field(default_factory=Counter)
    inserted: Counter[str] = field(default_factory=Counter)
    rejected: dict[str, Counter[str]] = field(default_factory=dict)


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
            cols.append(f"CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP) AS {name}")
        elif kind == "bool":
            cols.append(f"TRY_CAST({text} AS BOOLEAN) AS {name}")
        else:
            cols.append(f"{text} AS {name}")
    for name, key in JSON_FIELDS:
        cols.append(f't."{key}" AS {name}')
    cols.append(f"CASE WHEN t IS NOT NULL THEN {_rest_of_record()} END AS raw")
    reason = (
        "CASE WHEN left(ltrim(CAST(j AS VARCHAR)), 1) <> '{' THEN 'not a JSON object' "
        f"WHEN strlen(CAST(j AS VARCHAR)) > {int(max_bytes)} "
        f"THEN 'record over {int(max_bytes)} bytes' "
        "WHEN COALESCE(event_id, '') = '' OR COALESCE(event_name, '') = '' "
        "OR COALESCE(event_source, '') = '' "
        "THEN 'not a CloudTrail record (no eventID/eventName/eventSource)' "
        "WHEN event_time IS NULL THEN 'no valid eventTime' ELSE '' END"
    )
    return extract, ", ".join(cols), reason


def _reader(fmt: str, compression: str, max_object: int) -> str:
    options = (
        f"format='{'unstructured' if fmt == 'records' else fmt}', filename=true, "
        f"compression='{compression}', maximum_object_size={int(max_object)}"
    )
    if fmt == "records":
        return (
            "SELECT filename AS src, unnest(json_extract(json, '$.Records[*]')) AS j "
            f"FROM read_json_objects(?, {options})"
        )
    return f"SELECT filename AS src, json AS j FROM read_json_objects(?, {options})"


def load_batch(lake: Lake, files: list[LocalFile], max_bytes: int) -> BulkCounts:
    """Loads files of one format and compression in one go; raises `duckdb.Error` on bad input."""
    kinds = {sniff(f.path) for f in files}
    fmts = {(fmt, comp) for fmt, comp, _ in kinds}
    if len(fmts) != 1:
        raise ValueError("load_batch needs files of one format and compression")
    ((fmt, compression),) = fmts
    largest = max(size for _, _, size in kinds)
    max_object = (
        max(_MIN_OBJECT, largest + 1024) if fmt == "records" else max(_MIN_OBJECT, 2 * max_bytes)
    )
    extract, columns, reason = _select_columns(max_bytes)
    names = [n for n, _, _ in SCALAR_FIELDS] + [n for n, _ in JSON_FIELDS]
    counts = BulkCounts()
    lake.execute("DROP TABLE IF EXISTS cwpp_stage")
    lake.execute("CREATE OR REPLACE TEMP TABLE cwpp_stage_files (path VARCHAR, uri VARCHAR)")
    params = [v for f in files for v in (str(f.path), f.uri)]
    lake.execute(
        "INSERT INTO cwpp_stage_files VALUES " + ", ".join("(?, ?)" for _ in files), params
    )
    reader = (
        f"SELECT f.uri AS src, r.j FROM ({_reader(fmt, compression, max_object)}) AS r "
        "JOIN cwpp_stage_files AS f ON f.path = r.src"
    )
    parsed = (
        f"SELECT *, {reason} AS reason FROM (SELECT src, j, {columns} FROM (SELECT src, j, t, "
        f"json_transform(t.\"userIdentity\", '{_schema(_IDENTITY)}') AS u FROM "
        f"(SELECT src, j, {extract} FROM ({reader}))))"
    )
    # Fresh: valid, not in the lake, and the first valid copy of its event_id in this batch.
    # Chosen over the narrow (event_id, src, rowid) only: a window over the staged rows would
    # carry every column through its sort (it cost as much as parsing the JSON).
    fresh = (
        "SELECT arg_min(rowid, (src, rowid)) AS r FROM cwpp_stage AS s WHERE reason = '' "
        f"AND NOT EXISTS (SELECT 1 FROM {EVENTS.name} AS e WHERE e.event_id = s.event_id) "
        "GROUP BY event_id"
    )
    insert_cols = ", ".join(
        ["_cq_id", *names, "raw", "source", "ingested_at", "_cq_source_name", "_cq_sync_time"]
    )
    select_cols = ", ".join(
        [
            "CAST(md5(event_id) AS UUID)",
            *names,
            "raw",
            "src",
            "now()::TIMESTAMP",
            f"'{SOURCE_NAME}'",
            "now()::TIMESTAMP",
        ]
    )
    stage_cols = ", ".join(["src", "reason", *names, "raw"])
    lake.execute("DROP TABLE IF EXISTS cwpp_fresh")
    with lake.transaction():
        lake.execute(
            f"CREATE TEMP TABLE cwpp_stage AS SELECT {stage_cols} FROM ({parsed}) AS p",
            [[str(f.path) for f in files]],
        )
        lake.execute(f"CREATE TEMP TABLE cwpp_fresh AS {fresh}")
        lake.execute(
            f"INSERT INTO {EVENTS.name} ({insert_cols}) SELECT {select_cols} FROM cwpp_stage "
            "WHERE rowid IN (SELECT r FROM cwpp_fresh)"
        )
        # In the transaction: rows created in it have other row ids once it commits.
        rows = lake.query(
            "SELECT src, reason, count(*) AS n, count(f.r) AS fresh FROM cwpp_stage AS s "
            "LEFT JOIN cwpp_fresh AS f ON f.r = s.rowid GROUP BY src, reason"
        )
        # Dropped before the commit, which would otherwise copy the stage into temp storage.
        lake.execute("DROP TABLE cwpp_stage")
        lake.execute("DROP TABLE cwpp_fresh")
    for row in rows:
        uri = str(row["src"])
        counts.read[uri] += int(row["n"])
        counts.inserted[uri] += int(row["fresh"])
        if row["reason"]:
            counts.rejected.setdefault(uri, Counter())[str(row["reason"])] += int(row["n"])
    return counts
