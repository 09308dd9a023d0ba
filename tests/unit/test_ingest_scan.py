"""The C scanner (`_scan.c`): its columns equal the Python path's, on the corpora, on edge cases
and on fuzzed files; its Arrow stream; and ingestion through it into a DuckDB lake."""

from __future__ import annotations

import ctypes
import gzip
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from opencwpp.detect.ingest import bulk, ingest, list_sources, records, run, scan
from opencwpp.detect.ingest.table import JSON_FIELDS, MOVED_KEYS, SCALAR_FIELDS
from opencwpp.lake import Lake
from tests.conftest import require_shared

URI = "s3://trail/f.json"
TEXT_KEYS = [key for column, key in MOVED_KEYS if (column, key) not in JSON_FIELDS]
CAPTURE_NAMES = [name for name, _, _ in scan._CAPTURES]
# The typed columns as bulk.py computes them from the scanned text.
TYPED = (
    "CAST(TRY_CAST(COALESCE(event_time, at_timestamp) AS TIMESTAMPTZ) AS TIMESTAMP) AS typed_time, "
    "TRY_CAST(read_only AS BOOLEAN) AS typed_read_only, "
    "TRY_CAST(management_event AS BOOLEAN) AS typed_management_event"
)


# ---- helpers: scan, read through DuckDB, compare with the Python path ----


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone='UTC'")
    yield connection
    connection.close()


def read_rows(con: duckdb.DuckDBPyConnection, files: scan.ScannedFiles) -> list[dict[str, Any]]:
    """Every column of the scanned files, as DuckDB reads them, plus the typed columns."""
    con.register("v", files)
    try:
        cursor = con.execute(f"SELECT *, {TYPED} FROM v")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.unregister("v")


def scan_text(
    con: duckdb.DuckDBPyConnection, text: bytes, shape: str, uri: str = URI
) -> list[dict[str, Any]] | None:
    part = scan._SCANNER.scan(text, uri, shape)
    if part is None:
        return None
    rows = read_rows(con, scan.ScannedFiles(scan._SCANNER, (part,)))
    assert len(rows) == part.rows
    return rows


def python_records(text: bytes, uri: str = URI) -> list[Any]:
    """The records the Python path reads from a file (every one: rejected ones included)."""
    parsed = records.ParsedFile()
    found = records._records(text.decode("utf-8"), parsed)  # strict UTF-8, as parse_file
    assert not parsed.rejected, f"the Python path rejects lines the scanner took: {parsed}"
    total = records.parse_file(text, uri)
    assert len(total.rows) + sum(total.rejected.values()) == len(found)
    return found


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def dotted_value(record: dict[str, Any], dotted: str) -> Any:
    return records._path(record, dotted)


def text_matches(scanned: str | None, value: Any) -> bool:
    """A text column: a string's value, NULL for null/absent, else the value's JSON text."""
    if value is None or isinstance(value, str):
        return scanned == value
    return scanned is not None and canonical(json.loads(scanned)) == canonical(value)


def json_matches(scanned: str | None, value: Any) -> bool:
    if value is None:
        return scanned is None
    return scanned is not None and canonical(json.loads(scanned)) == canonical(value)


def rebuilt_record(row: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """`full_record` of the scanned row, a text field holding a non-string decoded again."""
    rebuilt = records.full_record(row)
    for key in TEXT_KEYS:
        if record.get(key) is not None and not isinstance(record[key], str):
            rebuilt[key] = json.loads(rebuilt[key])
    return rebuilt


def mismatches(row: dict[str, Any], record: Any, typed: bool) -> list[str]:
    """How a scanned row differs from the Python path's reading of `record` ([] when not)."""
    if not isinstance(record, dict):
        wrong = [n for n in [*CAPTURE_NAMES, "raw"] if row[n] is not None]
        return ([] if row["is_object"] == 0 else ["is_object"]) + wrong
    expected = records.to_row(record, "", URI, datetime.now(UTC))
    wrong = [] if row["is_object"] == 1 else ["is_object"]
    for name, _, dotted in SCALAR_FIELDS:
        if not text_matches(row[name], dotted_value(record, dotted)):
            wrong.append(name)
    if not text_matches(row[scan.AT_TIMESTAMP], record.get("@timestamp")):
        wrong.append(scan.AT_TIMESTAMP)
    for name, key in JSON_FIELDS:
        if not json_matches(row[name], record.get(key)):
            wrong.append(name)
    if canonical(json.loads(row["raw"])) != canonical(json.loads(records.rest_of_record(record))):
        wrong.append("raw")
    if canonical(rebuilt_record(row, record)) != canonical(record):
        wrong.append("full_record")
    if typed:
        if row["typed_time"] != expected["event_time"]:
            wrong.append(f"event_time {row['typed_time']} != {expected['event_time']}")
        for name in ("read_only", "management_event"):
            if row[f"typed_{name}"] != expected[name]:
                wrong.append(name)
    return wrong


def assert_matches_python(
    rows: list[dict[str, Any]], text: bytes, typed: bool = False, uri: str = URI
) -> None:
    found = python_records(text, uri)
    assert len(rows) == len(found)
    for index, (row, record) in enumerate(zip(rows, found, strict=True)):
        assert row["source"] == uri
        assert mismatches(row, record, typed) == [], f"record {index}: {record!r}"


# ---- 1. the build ----


def test_the_extension_was_built() -> None:
    assert scan.available()
    assert scan._SCANNER is not None


# ---- 2. the real corpora ----


def corpus_text(path: Path) -> tuple[str, bytes]:
    fmt, compression, _ = bulk.sniff(path)
    data = path.read_bytes()
    return fmt, gzip.decompress(data) if compression == "gzip" else data


def test_the_corpora_scan_as_the_python_path_reads_them(con: duckdb.DuckDBPyConnection) -> None:
    root = require_shared("cloudtrail")
    paths = sorted(root.rglob("*.json"))
    assert paths
    taken: list[Path] = []
    left: list[Path] = []
    for path in paths:
        fmt, text = corpus_text(path)
        uri = str(path)
        rows = scan_text(con, text, scan._SHAPES[fmt], uri)
        if rows is None:
            left.append(path)
            continue
        taken.append(path)
        assert_matches_python(rows, text, typed=True, uri=uri)
        parsed = records.parse_file(path.read_bytes(), uri)
        assert len(rows) == len(parsed.rows) + sum(parsed.rejected.values())
    # Every file of the Stratus corpus in CloudTrail's own shapes ({"Records": ...} or an
    # array) is taken; the corpora as a whole too (39 files at the time of writing).
    stratus = [p for p in paths if "stratus" in str(p) and bulk.sniff(p)[0] in ("records", "array")]
    assert len(stratus) >= 30
    assert [p for p in stratus if p in left] == []
    print(f"corpora: {len(taken)} files taken, {len(left)} left")
    assert left == [], f"taken {len(taken)}, left {[str(p) for p in left]}"


def test_scan_files_takes_the_corpus_files_and_names_those_left(tmp_path: Path) -> None:
    root = require_shared("cloudtrail")
    arrays = [p for p in sorted(root.rglob("*.json")) if bulk.sniff(p)[0] == "array"]
    bad = tmp_path / "bad.json"
    bad.write_bytes(arrays[0].read_bytes()[:-10])  # truncated: the scanner leaves it
    files = [(p, str(p)) for p in arrays[:3]] + [(bad, str(bad))] + [(arrays[3], "x")]
    result = scan.scan_files(files, "array", "none")
    assert (result.left, result.too_big) == ([3], [])
    scanned = result.scanned
    assert scanned is not None
    assert scanned.rows == sum(len(json.loads(p.read_bytes())) for p in [*arrays[:4]])


def test_scan_files_gunzips_every_member(tmp_path: Path) -> None:
    root = require_shared("cloudtrail")
    path = next(p for p in sorted(root.rglob("*.json")) if bulk.sniff(p)[0] == "array")
    data = path.read_bytes()
    members = tmp_path / "members.json.gz"  # two gzip members, zero padding after the last
    members.write_bytes(gzip.compress(data[:100]) + gzip.compress(data[100:]) + b"\0\0")
    corrupt = tmp_path / "corrupt.json.gz"
    corrupt.write_bytes(gzip.compress(data)[:-20])
    assert bulk.sniff(members)[:2] == ("array", "gzip")
    result = scan.scan_files([(corrupt, "c"), (members, "m")], "array", "gzip")
    assert result.left == [0]
    assert result.scanned is not None and result.scanned.rows == len(json.loads(data))


def test_scan_files_stops_inflating_past_the_file_limit(tmp_path: Path) -> None:
    """A gzip bomb is neither scanned nor left to DuckDB's reader, which has no limit."""
    root = require_shared("cloudtrail")
    path = next(p for p in sorted(root.rglob("*.json")) if bulk.sniff(p)[0] == "array")
    data = path.read_bytes()
    whole = tmp_path / "whole.json.gz"
    whole.write_bytes(gzip.compress(data))
    split = tmp_path / "split.json.gz"  # over the limit only with its second member
    split.write_bytes(gzip.compress(data[:100]) + gzip.compress(data[100:]))
    plain = tmp_path / "plain.json"
    plain.write_bytes(data)
    files = [(whole, "w"), (split, "s")]
    assert scan.scan_files(files, "array", "gzip", len(data)).too_big == []
    assert scan.scan_files(files, "array", "gzip", len(data) - 1).too_big == [0, 1]
    assert scan.scan_files([(plain, "p")], "array", "none", len(data) - 1).too_big == [0]


# ---- 3. edge cases ----


def record(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventID": "e-1",
        "eventTime": "2024-07-31T13:00:00Z",
        "eventName": "GetObject",
        "eventSource": "s3.amazonaws.com",
    }
    return {**base, **fields}


def envelope(*members: str) -> bytes:
    """A `{"Records": [...]}` file of records given as JSON text."""
    return ('{"Records": [' + ", ".join(members) + "]}").encode()


def one(text: str) -> bytes:
    """A file of one record: `text` is the members after eventID (its own key, always first)."""
    return envelope('{"eventID": "e-1"' + (", " + text if text else "") + "}")


NESTED_256 = "[" * 255 + "]" * 255  # inside the record: 256 levels of nesting in all
NESTED_300 = "[" * 299 + "]" * 299

# (name, file text, shape, expected: None when refused, else per row the columns to check)
CASES: list[tuple[str, bytes, str, list[dict[str, Any]] | None]] = [
    # escapes in captured strings are unescaped
    ("escaped quote", one(r'"eventName": "a\"b"'), "r", [{"event_name": 'a"b'}]),
    ("escaped backslash", one(r'"eventName": "a\\b"'), "r", [{"event_name": "a\\b"}]),
    ("escaped slash", one(r'"eventName": "a\/b"'), "r", [{"event_name": "a/b"}]),
    ("escaped newline, tab", one(r'"eventName": "a\nb\tc"'), "r", [{"event_name": "a\nb\tc"}]),
    ("escaped control b f r", one(r'"eventName": "\b\f\r"'), "r", [{"event_name": "\b\f\r"}]),
    ("escaped latin", one(r'"userAgent": "caf\u00e9"'), "r", [{"user_agent": "café"}]),
    ("escaped cjk", one(r'"userAgent": "\u6771\u4EAC"'), "r", [{"user_agent": "東京"}]),
    ("surrogate pair", one(r'"userAgent": "\ud83d\ude00"'), "r", [{"user_agent": "😀"}]),
    ("raw utf-8", one('"userAgent": "café 😀"'), "r", [{"user_agent": "café 😀"}]),
    (
        "nested capture escaped",
        one(r'"userIdentity": {"userName": "a\u00e9\"b"}'),
        "r",
        [{"user_identity_user_name": 'aé"b', "user_identity": r'{"userName":"a\u00e9\"b"}'}],
    ),
    ("lone high surrogate", one(r'"eventName": "\ud83d"'), "r", None),
    ("lone low surrogate", one(r'"eventName": "\ude00x"'), "r", None),
    ("high then non-low", one(r'"eventName": "\ud83d\u0041"'), "r", None),
    ("nul escape", one(r'"eventName": "a\u0000b"'), "r", None),
    # DuckDB's JSON functions refuse a lone surrogate: refused in any string, captured or not
    ("lone surrogate in raw", one(r'"note": "\ud800"'), "r", None),
    ("lone surrogate in a JSON field", one(r'"requestParameters": {"k": "\udc00"}'), "r", None),
    ("lone surrogate in a key", one(r'"requestParameters": {"\ud800": 1}'), "r", None),
    ("nested nul escape", one(r'"userIdentity": {"arn": "\u0000"}'), "r", None),
    # an escape in a string no column unescapes stays as written, in raw and JSON columns
    (
        "escape kept in raw",
        one(r'"note": "caf\u00e9 \"q\" \ud83d\ude00", "requestParameters": {"k": "\u0000\n"}'),
        "r",
        [
            {
                "raw": r'{"note":"caf\u00e9 \"q\" \ud83d\ude00"}',
                "request_parameters": r'{"k":"\u0000\n"}',
            }
        ],
    ),
    # invalid UTF-8 anywhere: refused
    ("overlong slash", b'{"Records": [{"note": "a\xc0\xafb"}]}', "r", None),
    ("utf-8 surrogate", b'{"Records": [{"note": "\xed\xa0\x80"}]}', "r", None),
    ("truncated multibyte", b'{"Records": [{"note": "\xe6\x9d', "r", None),
    ("truncated multibyte in string", b'{"Records": [{"note": "\xe6\x9d"}]}', "r", None),
    ("byte ff", b'{"Records": [{"note": "\xff"}]}', "r", None),
    ("over U+10FFFF", b'{"Records": [{"note": "\xf4\x90\x80\x80"}]}', "r", None),
    ("utf-8 outside a string", b'{"Records": [{"note": 1}\xc3\xa9]}', "r", None),
    ("raw tab in a string", one('"eventName": "a\tb"'), "r", None),
    ("raw newline in a string", one('"note": "a\nb"'), "r", None),
    ("raw nul in a string", one('"note": "a\x00b"'), "r", None),
    ("bad escape", one(r'"note": "\x41"'), "r", None),
    ("short unicode escape", one(r'"note": "\u12"'), "r", None),
    # keys
    ("escaped top-level key", one(r'"event\u004eame": "X"'), "r", None),
    ("escaped unknown top-level key", one(r'"not\u0065": 1'), "r", None),
    ("escaped key in userIdentity", one(r'"userIdentity": {"\u0074ype": "Root"}'), "r", None),
    (
        "escaped key inside an uncaptured object",
        one(r'"requestParameters": {"\u0074ype": 1}'),
        "r",
        [{"request_parameters": r'{"\u0074ype":1}'}],
    ),
    ("duplicate eventName", one('"eventName": "A", "eventName": "B"'), "r", None),
    ("duplicate eventID, first null", envelope('{"eventID": null, "eventID": "x"}'), "r", None),
    ("duplicate eventTime", one('"eventTime": "a", "eventTime": "b"'), "r", None),
    ("duplicate JSON field", one('"resources": [], "resources": null'), "r", None),
    ("duplicate @timestamp", one('"@timestamp": "a", "@timestamp": "b"'), "r", None),
    ("duplicate userIdentity.arn", one('"userIdentity": {"arn": "a", "arn": "b"}'), "r", None),
    (
        "duplicate session issuer arn",
        one('"userIdentity": {"sessionContext": {"sessionIssuer": {"arn": "a", "arn": "b"}}}'),
        "r",
        None,
    ),
    (
        "duplicate uncaptured key",
        one('"note": 1, "note": 2, "requestParameters": {"k": 1, "k": 2}'),
        "r",
        [{"raw": '{"note":1,"note":2}', "request_parameters": '{"k":1,"k":2}'}],
    ),
    (
        "unknown keys and nulls land in raw",
        one('"future": {"a": [1, null]}, "eventName": null, "awsRegion": "eu-west-1"'),
        "r",
        [
            {
                "raw": '{"future":{"a":[1,null]},"eventName":null}',
                "event_name": None,
                "aws_region": "eu-west-1",
            }
        ],
    ),
    (
        "captured but not moved keys stay in raw",
        one('"eventTime": "t", "readOnly": true, "managementEvent": "false", "@timestamp": 5'),
        "r",
        [
            {
                "raw": '{"eventTime":"t","readOnly":true,"managementEvent":"false","@timestamp":5}',
                "event_time": "t",
                "read_only": "true",
                "management_event": "false",
                "at_timestamp": "5",
            }
        ],
    ),
    (
        "null requestParameters stays in raw",
        one('"requestParameters": null'),
        "r",
        [{"raw": '{"requestParameters":null}', "request_parameters": None}],
    ),
    (
        "requestParameters moved",
        one('"requestParameters": {"bucketName": "b"}'),
        "r",
        [{"raw": "{}", "request_parameters": '{"bucketName":"b"}'}],
    ),
    (
        "whitespace minified outside strings only",
        b'{"Records":[ {"eventID" : "e-1" ,\n "note" : [ 1 ,\t{ "a b" : "c  d" } ] ,'
        b'\r\n "resources" : [ { "ARN" : " x\\" y " } , 2 ] } ]}',
        "r",
        [{"raw": '{"note":[1,{"a b":"c  d"}]}', "resources": '[{"ARN":" x\\" y "},2]'}],
    ),
    (
        "backslashes before a quote in a minified value",
        one('"note": [ "a\\\\", "b\\\\\\"c" , "\\\\\\\\" ]'),
        "r",
        [{"raw": r'{"note":["a\\","b\\\"c","\\\\"]}'}],
    ),
    (
        "non-strings in text fields",
        one(
            '"eventName": 12, "awsRegion": -1.5e3, "userAgent": true, "errorCode": [1, 2],'
            ' "errorMessage": {"a": 1}'
        ),
        "r",
        [
            {
                "event_name": "12",
                "aws_region": "-1.5e3",
                "user_agent": "true",
                "error_code": "[1,2]",
                "error_message": '{"a":1}',
            }
        ],
    ),
    (
        "string JSON field",
        one('"requestParameters": "a b", "additionalEventData": 3'),
        "r",
        [{"request_parameters": '"a b"', "additional_event_data": "3"}],
    ),
    ("nesting 256 deep", one(f'"note": {NESTED_256}'), "r", [{"raw": f'{{"note":{NESTED_256}}}'}]),
    ("nesting 300 deep", one(f'"note": {NESTED_300}'), "r", None),
    (
        "nesting 300 deep in a non-object",
        ("[" + "[" * 299 + "]" * 299 + "]").encode(),
        "a",
        None,
    ),
    # the whole file
    ("truncated", one('"eventName": "A"')[:-3], "r", None),
    ("truncated in a string", one('"eventName": "AAAA"')[:-8], "r", None),
    ("trailing garbage", one("") + b" x", "r", None),
    ("trailing second envelope", one("") + one(""), "r", None),
    ("trailing whitespace", one("") + b" \n\r\t", "r", [{"event_id": "e-1"}]),
    ("leading whitespace", b" \n" + one(""), "r", [{"event_id": "e-1"}]),
    ("envelope with another key", b'{"Records": [{"eventID": "a"}], "x": {"y": 1}}', "r", [{}]),
    ("envelope, Records twice", b'{"Records": [{"eventID": "a"}], "Records": []}', "r", None),
    ("envelope, Records not an array", b'{"Records": 5}', "r", None),
    ("envelope, Records not first", b'{"x": 1, "Records": []}', "r", None),
    ("envelope, escaped extra key", b'{"Records": [], "\\u0078": 1}', "r", None),
    ("empty envelope", b'{"Records": []}', "r", []),
    ("empty file", b"", "r", None),
    ("whitespace-only file", b" \n\t ", "r", None),
    ("empty file, lines", b"", "l", None),
    ("whitespace-only file, lines", b"\n \n", "l", None),
    ("empty file, array", b"", "a", None),
    # shapes
    (
        "array of non-objects",
        b'[1, "s", [{"eventID": "x"}], {"eventID": "y"}, null]',
        "a",
        [
            {"is_object": 0, "raw": None, "event_id": None, "nbytes": 1},
            {"is_object": 0, "raw": None, "nbytes": 3},
            {"is_object": 0, "raw": None, "event_id": None, "nbytes": 18},
            {"is_object": 1, "raw": "{}", "event_id": "y", "nbytes": 16},
            {"is_object": 0, "raw": None, "nbytes": 4},
        ],
    ),
    ("empty array", b"[]", "a", []),
    ("array, trailing comma", b'[{"eventID": "y"},]', "a", None),
    (
        "ndjson of 3",
        b'{"eventID": "a"}\n{"eventID": "b"}\r\n\n{"eventID": "c"}',
        "l",
        [{"event_id": "a"}, {"event_id": "b"}, {"event_id": "c"}],
    ),
    ("ndjson, two values on a line", b'{"eventID": "a"} {"eventID": "b"}\n', "l", None),
    ("ndjson, two values touching", b'{"eventID": "a"}{"eventID": "b"}', "l", None),
    (
        "one pretty-printed object",
        b'{\n  "eventID": "a",\n  "userIdentity": {\n    "type": "Root"\n  }\n}\n',
        "l",
        [{"event_id": "a", "user_identity_type": "Root", "user_identity": '{"type":"Root"}'}],
    ),
    ("two pretty-printed objects", b'{\n "eventID": "a"\n}\n{\n "eventID": "b"\n}\n', "l", None),
    (
        "one line, then a value over lines",
        b'{"eventID": "a"}\n{\n "eventID": "b"\n}\n',
        "l",
        None,
    ),
    ("single object holding Records", b'{"Records": [{"eventID": "a"}]}', "l", None),
    ("ndjson line holding Records", b'{"eventID": "a"}\n{"Records": []}\n', "l", None),
    ("records shape on a bare array", b'[{"eventID": "a"}]', "r", None),
    # numbers and literals
    ("leading zero", one('"note": 01'), "r", None),
    ("fraction without digits", one('"note": 1.'), "r", None),
    ("lone minus", one('"note": -'), "r", None),
    ("exponent without digits", one('"note": 1e'), "r", None),
    ("exponent sign only", one('"note": 1e+'), "r", None),
    ("plus sign", one('"note": +1'), "r", None),
    ("leading dot", one('"note": .5'), "r", None),
    ("NaN", one('"note": NaN'), "r", None),
    ("Infinity", one('"note": -Infinity'), "r", None),
    ("hex", one('"note": 0x1'), "r", None),
    ("truncated true", one('"note": tru'), "r", None),
    ("truncated null", one('"note": nul'), "r", None),
    ("capitalised literal", one('"note": True'), "r", None),
    ("truncated null in a capture", one('"eventName": nul'), "r", None),
    (
        "valid numbers",
        one('"note": [0, -0, 1.5, 2e10, 3E-2, -0.0e+1], "eventName": -0.0e+1'),
        "r",
        [{"raw": '{"note":[0,-0,1.5,2e10,3E-2,-0.0e+1]}', "event_name": "-0.0e+1"}],
    ),
    # userIdentity
    (
        "userIdentity a string",
        one('"userIdentity": "Root"'),
        "r",
        [{"user_identity": '"Root"', "user_identity_type": None, "session_issuer_arn": None}],
    ),
    (
        "userIdentity null",
        one('"userIdentity": null'),
        "r",
        [{"user_identity": None, "raw": '{"userIdentity":null}'}],
    ),
    (
        "session issuer captured",
        one(
            '"userIdentity": {"type": "AssumedRole", "sessionContext": {"sessionIssuer": '
            '{"type": "Role", "arn": "arn:aws:iam::1:role/r", "userName": "r"}, '
            '"attributes": {"mfaAuthenticated": "false", "creationDate": "x"}}}'
        ),
        "r",
        [
            {
                "user_identity_type": "AssumedRole",
                "session_issuer_type": "Role",
                "session_issuer_arn": "arn:aws:iam::1:role/r",
                "session_issuer_user_name": "r",
                "session_mfa_authenticated": "false",
            }
        ],
    ),
    (
        "sessionContext a string",
        one('"userIdentity": {"arn": "a", "sessionContext": "x"}'),
        "r",
        [{"user_identity_arn": "a", "session_issuer_arn": None}],
    ),
    (
        "a captured path's keys below an array are not captured",
        one('"userIdentity": [{"arn": "a"}]'),
        "r",
        [{"user_identity_arn": None, "user_identity": '[{"arn":"a"}]'}],
    ),
    # A key on the way to a captured field (not captured itself) given twice: json.loads, the
    # Python path and the row's own user_identity column keep the last sessionContext, which
    # has no sessionIssuer. The scan would report the first one's arn, so it refuses the file.
    (
        "duplicate sessionContext, the last without an issuer",
        one(
            '"userIdentity": {"sessionContext": {"sessionIssuer": {"arn": "first"}}, '
            '"sessionContext": {}}'
        ),
        "r",
        None,
    ),
    (
        "duplicate sessionIssuer, the last without an arn",
        one(
            '"userIdentity": {"sessionContext": {"sessionIssuer": {"arn": "first"}, '
            '"sessionIssuer": {"type": "Role"}}}'
        ),
        "r",
        None,
    ),
    (
        "duplicate attributes, the last without mfaAuthenticated",
        one(
            '"userIdentity": {"sessionContext": {"attributes": {"mfaAuthenticated": "true"}, '
            '"attributes": null}}'
        ),
        "r",
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "shape", "expected"),
    [pytest.param(text, shape, expected, id=name) for name, text, shape, expected in CASES],
)
def test_edge_cases(
    con: duckdb.DuckDBPyConnection,
    text: bytes,
    shape: str,
    expected: list[dict[str, Any]] | None,
) -> None:
    rows = scan_text(con, text, shape)
    if expected is None:
        assert rows is None
        return
    assert rows is not None
    got = [{k: row[k] for k in want} for row, want in zip(rows, expected, strict=False)]
    assert (len(rows), got) == (len(expected), expected)
    # What the scanner takes is valid JSON, read the same by the Python path.
    assert_matches_python(rows, text)
    for row in rows:
        for column in ["raw", *(name for name, _ in JSON_FIELDS)]:
            if row[column] is not None:
                json.loads(row[column])


def test_a_bad_shape_is_an_error() -> None:
    with pytest.raises(ValueError, match="shape"):
        scan._SCANNER.scan(b"[]", URI, "x")


def test_nbytes_is_the_record_length_in_the_file(con: duckdb.DuckDBPyConnection) -> None:
    members = ['{"eventID": "a",\n   "note": "é"}', "{ }", '{"eventID":"b"}']
    text = envelope(*members)
    rows = scan_text(con, text, "r")
    assert rows is not None
    assert [r["nbytes"] for r in rows] == [len(m.encode()) for m in members]


# ---- 4. fuzz ----

FUZZ_BASE = (
    b'{"Records": [\n'
    b' {"eventVersion": "1.08", "userIdentity": {"type": "AssumedRole", "principalId":'
    b' "AROA:s", "arn": "arn:aws:sts::111122223333:assumed-role/r/s", "accountId":'
    b' "111122223333", "accessKeyId": "ASIA1", "sessionContext": {"sessionIssuer": {"type":'
    b' "Role", "principalId": "AROA", "arn": "arn:aws:iam::111122223333:role/r", "accountId":'
    b' "111122223333", "userName": "r"}, "attributes": {"creationDate":'
    b' "2024-07-31T12:00:00Z", "mfaAuthenticated": "false"}}}, "eventTime":'
    b' "2024-07-31T13:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",'
    b' "awsRegion": "eu-west-1", "sourceIPAddress": "203.0.113.7", "userAgent":'
    b' "aws-cli\\/2 \\"q\\" caf\\u00e9 \\ud83d\\ude00 \xe6\x9d\xb1", "requestParameters":'
    b' {"bucketName": "b", "key": "a b\\\\c", "n": [1, 2.5e3, -0, true, null]},'
    b' "responseElements": null, "additionalEventData": {"bytes": 12},'
    b' "requestID": "R1", "eventID": "e-1", "readOnly": true, "resources": [{"ARN":'
    b' "arn:aws:s3:::b"}], "eventType": "AwsApiCall", "managementEvent": false,'
    b' "recipientAccountId": "111122223333", "tlsDetails": {"tlsVersion": "TLSv1.3"}},\n'
    b' {"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "userName": "al\\tice",'
    b' "invokedBy": "cloudtrail.amazonaws.com"}, "eventTime": "2024-07-31T13:01:00.123Z",'
    b' "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "errorCode":'
    b' "AccessDenied", "errorMessage": "not \\"allowed\\"\\n", "requestParameters": null,'
    b' "eventID": "e-2", "vpcEndpointId": "vpce-1", "future": {"x": "\\u0000"}},\n'
    b' {"eventID": "e-3", "@timestamp": "2024-07-31T13:02:00Z", "eventName": "Describe",'
    b' "eventSource": "ec2.amazonaws.com", "userIdentity": "weird"}\n'
    b"]}"
)
INTERESTING = b'{}[]:,"\\ \n\t0123456789eE+-.tfnulrsu\x00\x1f\x7f\x80\xbf\xc3\xe6\xed\xf0\xff'


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not buf:
            break
        at = rng.randrange(len(buf))
        kind = rng.randrange(6)
        if kind == 0:  # flip a bit
            buf[at] ^= 1 << rng.randrange(8)
        elif kind == 1:  # overwrite with a byte that matters to JSON or UTF-8
            buf[at] = rng.choice(INTERESTING)
        elif kind == 2:  # insert
            buf[at:at] = bytes([rng.choice(INTERESTING)])
        elif kind == 3:  # delete a slice
            del buf[at : at + rng.randint(1, 8)]
        elif kind == 4:  # duplicate a slice right after itself
            end = min(len(buf), at + rng.randint(1, 40))
            buf[end:end] = buf[at:end]
        else:  # truncate
            del buf[at:]
    return bytes(buf)


# The same records one per line (NDJSON): FUZZ_BASE holds them on lines 2 to 4.
FUZZ_LINES = b"\n".join(line.rstrip(b",") for line in FUZZ_BASE.split(b"\n")[1:4]) + b"\n"


@pytest.mark.parametrize(
    ("base", "shape", "mutations"), [(FUZZ_BASE, "r", 4000), (FUZZ_LINES, "l", 2000)]
)
def test_fuzzed_files_are_refused_or_read_as_python_reads_them(
    con: duckdb.DuckDBPyConnection, base: bytes, shape: str, mutations: int
) -> None:
    base_rows = scan_text(con, base, shape)
    assert base_rows is not None and len(base_rows) == 3
    assert_matches_python(base_rows, base, typed=True)
    rng = random.Random(20241127)
    started = time.monotonic()
    taken: dict[str, tuple[bytes, Any]] = {}  # by URI: the text and its scan
    refused = 0
    for number in range(mutations):
        text = mutate(rng, base)
        part = scan._SCANNER.scan(text, f"m{number}", shape)
        if part is None:
            refused += 1
        else:
            text.decode("utf-8")  # what the scanner takes is UTF-8 ...
            if shape == "r":
                json.loads(text)  # ... and JSON (for lines: python_records checks each)
            taken[f"m{number}"] = (text, part)
    # Read in one go: a stream of a thousand parts, each part's rows under its own source.
    rows = read_rows(con, scan.ScannedFiles(scan._SCANNER, tuple(p for _, p in taken.values())))
    by_source: dict[str, list[dict[str, Any]]] = {uri: [] for uri in taken}
    for row in rows:
        by_source[row["source"]].append(row)
    for uri, (text, part) in taken.items():
        assert len(by_source[uri]) == part.rows
        assert_matches_python(by_source[uri], text, uri=uri)
    elapsed = time.monotonic() - started
    print(f"fuzz {shape}: {len(taken)} accepted, {refused} refused in {elapsed:.1f}s")
    assert len(taken) > mutations // 20 and refused > mutations // 20


# ---- 5. the Arrow stream ----


class ArrowSchema(ctypes.Structure):
    pass


class ArrowArray(ctypes.Structure):
    pass


class ArrowArrayStream(ctypes.Structure):
    pass


ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p),
    ("name", ctypes.c_char_p),
    ("metadata", ctypes.c_void_p),
    ("flags", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))),
    ("dictionary", ctypes.POINTER(ArrowSchema)),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))),
    ("private_data", ctypes.c_void_p),
]
ArrowArray._fields_ = [
    ("length", ctypes.c_int64),
    ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowArray))),
    ("dictionary", ctypes.POINTER(ArrowArray)),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))),
    ("private_data", ctypes.c_void_p),
]
ArrowArrayStream._fields_ = [
    (
        "get_schema",
        ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(ArrowSchema)
        ),
    ),
    (
        "get_next",
        ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(ArrowArray)
        ),
    ),
    ("get_last_error", ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.POINTER(ArrowArrayStream))),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArrayStream))),
    ("private_data", ctypes.c_void_p),
]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def drain(capsule: object) -> tuple[list[tuple[str, str]], list[int]]:
    """A stream capsule's schema (name, format per column) and its batches' lengths."""
    stream = ArrowArrayStream.from_address(_capsule_pointer(capsule, b"arrow_array_stream"))
    schema = ArrowSchema()
    assert stream.get_schema(ctypes.byref(stream), ctypes.byref(schema)) == 0
    children = [schema.children[i].contents for i in range(schema.n_children)]
    columns = [(c.name.decode(), c.format.decode()) for c in children]
    schema.release(ctypes.byref(schema))
    lengths = []
    while True:
        array = ArrowArray()
        assert stream.get_next(ctypes.byref(stream), ctypes.byref(array)) == 0
        if not array.release:
            break
        assert array.n_children == len(columns)
        assert all(array.children[i].contents.length == array.length for i in range(len(columns)))
        lengths.append(array.length)
        array.release(ctypes.byref(array))
    return columns, lengths


def three_parts() -> scan.ScannedFiles:
    texts = [
        (envelope('{"eventID": "a1"}', '{"eventID": "a2"}'), "s3://b/a", "r"),
        (b"[]", "s3://b/empty", "a"),
        (b'{"eventID": "c1"}\n{"eventID": "c2"}\n{"eventID": "c3"}\n', "s3://b/c", "l"),
    ]
    parts = tuple(scan._SCANNER.scan(text, uri, shape) for text, uri, shape in texts)
    assert all(part is not None for part in parts)
    return scan.ScannedFiles(scan._SCANNER, parts)


def test_each_stream_yields_every_batch() -> None:
    files = three_parts()
    assert files.rows == 5
    first, second = files.__arrow_c_stream__(), files.__arrow_c_stream__()
    for capsule in (second, first, files.__arrow_c_stream__()):
        columns, lengths = drain(capsule)
        assert lengths == [2, 0, 3]
        assert columns[:3] == [("source", "u"), ("nbytes", "l"), ("is_object", "i")]
        assert columns[3:] == [(name, "u") for name in [*CAPTURE_NAMES, "raw"]]


def test_a_stream_needs_parts_of_this_scanner() -> None:
    other = scan._scan.Scanner([("a", "a", False)], [])
    part = scan._SCANNER.scan(b"[]", URI, "a")
    with pytest.raises(TypeError):
        other.stream([part])
    with pytest.raises(ValueError, match="at least one"):
        scan._SCANNER.stream([])


class CountingFiles:
    """Scanned files that count how often a consumer asks for a stream."""

    def __init__(self, files: scan.ScannedFiles) -> None:
        self.files = files
        self.calls = 0

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        self.calls += 1
        return self.files.__arrow_c_stream__(requested_schema)


def test_duckdb_reads_the_parts_in_order_as_often_as_it_asks(
    con: duckdb.DuckDBPyConnection,
) -> None:
    counting = CountingFiles(three_parts())
    con.register("parts", counting)
    try:
        for _ in range(3):
            got = con.execute("SELECT source, event_id FROM parts").fetchall()
            assert got == [
                ("s3://b/a", "a1"),
                ("s3://b/a", "a2"),
                ("s3://b/c", "c1"),
                ("s3://b/c", "c2"),
                ("s3://b/c", "c3"),
            ]
        assert con.execute("SELECT count(*) FROM parts").fetchone() == (5,)
        types = dict(
            con.execute("SELECT column_name, column_type FROM (DESCRIBE parts)").fetchall()
        )
    finally:
        con.unregister("parts")
    assert counting.calls >= 4
    assert types["source"] == "VARCHAR"
    assert (types["nbytes"], types["is_object"]) == ("BIGINT", "INTEGER")
    assert types["raw"] == "JSON"
    assert all(types[name] == "JSON" for name, _ in JSON_FIELDS)
    assert all(types[name] == "VARCHAR" for name, _, _ in SCALAR_FIELDS)
    assert types[scan.AT_TIMESTAMP] == "VARCHAR"


def test_duckdb_reads_an_empty_file_and_many_rows(con: duckdb.DuckDBPyConnection) -> None:
    many = envelope(*(json.dumps(record(eventID=f"id-{i}", note=None)) for i in range(2000)))
    parts = (scan._SCANNER.scan(b'{"Records": []}', "e", "r"), scan._SCANNER.scan(many, "m", "r"))
    rows = read_rows(con, scan.ScannedFiles(scan._SCANNER, parts))
    assert [r["event_id"] for r in rows] == [f"id-{i}" for i in range(2000)]
    assert {r["raw"] for r in rows} == {'{"eventTime":"2024-07-31T13:00:00Z","note":null}'}


# ---- 6. end to end ----


def write_records_gz(path: Path, events: list[dict[str, Any]], key: str = "Records") -> Path:
    path.write_bytes(gzip.compress(f'{{"{key}": {json.dumps(events)}}}'.encode()))
    return path


def event(n: int, **fields: Any) -> dict[str, Any]:
    return record(
        eventID=f"id-{n:04d}",
        eventTime=f"2024-07-31T13:{n % 60:02d}:00Z",
        userIdentity={"type": "AssumedRole", "arn": f"arn:aws:sts::1:assumed-role/r/{n}"},
        **fields,
    )


def forbid_python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError(f"a file went through the Python path: {args[1].uri}")

    monkeypatch.setattr(run, "_python_path", refuse)


def test_ingest_mixes_scanned_and_read_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    # The file first by URI has a key with an escape: the scanner leaves it to DuckDB's reader.
    refused = [event(1, eventName="FromRefused"), {**event(2), "not\\u0065": 1}]
    refused_text = json.dumps({"Records": refused}).replace("not\\\\u0065", "not\\u0065")
    (folder / "a.json.gz").write_bytes(gzip.compress(refused_text.encode()))
    write_records_gz(folder / "b.json.gz", [event(1, eventName="FromScanned"), event(3)])
    files = [(folder / "a.json.gz", "a"), (folder / "b.json.gz", "b")]
    assert bulk.sniff(folder / "a.json.gz")[:2] == bulk.sniff(folder / "b.json.gz")[:2]
    assert scan.scan_files(files, "records", "gzip").left == [0]  # a left, b scanned
    assert len(records.parse_file((folder / "a.json.gz").read_bytes(), "a").rows) == 2

    forbid_python_path(monkeypatch)  # both files are read in one bulk batch
    with Lake.open("duckdb:///" + str(tmp_path / "l.duckdb")) as lake:
        report = ingest(lake, list_sources([str(folder)]))
        by_name = {Path(f.uri).name: f for f in report.files}
        counts = {n: (f.read, f.inserted, f.duplicates, f.outcome) for n, f in by_name.items()}
        assert counts == {"a.json.gz": (2, 2, 0, "ingested"), "b.json.gz": (2, 1, 1, "ingested")}
        rows = lake.query(
            "SELECT event_id, event_name, source, raw FROM aws_cloudtrail_events ORDER BY event_id"
        )
    kept = {r["event_id"]: (r["event_name"], Path(r["source"]).name) for r in rows}
    assert kept == {
        "id-0001": ("FromRefused", "a.json.gz"),
        "id-0002": ("GetObject", "a.json.gz"),
        "id-0003": ("GetObject", "b.json.gz"),
    }
    assert json.loads(rows[1]["raw"]) == {"eventTime": "2024-07-31T13:02:00Z", "note": 1}


def test_ingest_rejects_a_record_over_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    big = event(2, requestParameters={"blob": "x" * 4000})
    path = write_records_gz(folder / "big.json.gz", [event(1), big, event(3)])
    assert scan.scan_files([(path, "u")], "records", "gzip").left == []  # scanned
    forbid_python_path(monkeypatch)
    with Lake.open("duckdb:///" + str(tmp_path / "l.duckdb")) as lake:
        report = ingest(lake, list_sources([str(folder)]), max_record_bytes=3000)
        stored = [r["event_id"] for r in lake.query("SELECT event_id FROM aws_cloudtrail_events")]
    (outcome,) = report.files
    assert (outcome.read, outcome.inserted, outcome.outcome) == (3, 2, "partial")
    assert outcome.rejected == {"record over 3000 bytes": 1}
    assert sorted(stored) == ["id-0001", "id-0003"]
