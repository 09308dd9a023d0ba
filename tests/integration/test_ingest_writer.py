"""Writing events on each backend: new event ids only, the first copy, a concurrent run, and
characters a backend cannot store."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opencwpp.detect.ingest import ingest, list_sources, writer
from opencwpp.detect.ingest.records import full_record, parse_file
from opencwpp.detect.ingest.table import INGEST_STATE, events_table
from opencwpp.lake import Lake


def _rows(ids: list[str], name: str = "ListBuckets") -> list[dict[str, object]]:
    records = ",".join(
        f'{{"eventID": "{i}", "eventTime": "2024-08-01T10:00:00Z", "eventName": "{name}", '
        f'"eventSource": "s3.amazonaws.com", "requestParameters": {{"b": [1, 2]}}, "x": null}}'
        for i in ids
    )
    return parse_file(f'{{"Records": [{records}]}}'.encode(), "f.json").rows


def _stored(lake: Lake) -> list[dict[str, object]]:
    return lake.query("SELECT * FROM aws_cloudtrail_events ORDER BY event_id")


@pytest.fixture
def events_lake(lake: Lake) -> Lake:
    lake.ensure_tables([events_table(lake.dialect), INGEST_STATE])
    return lake


def test_new_ids_only_and_the_first_copy(events_lake: Lake) -> None:
    assert writer.insert_events(events_lake, _rows(["a", "b"])) == 2
    rows = _rows(["b", "c", "c"], name="GetObject") + _rows(["c"], name="PutObject")
    assert writer.insert_events(events_lake, rows) == 1
    stored = _stored(events_lake)
    assert [(r["event_id"], r["event_name"]) for r in stored] == [
        ("a", "ListBuckets"),
        ("b", "ListBuckets"),
        ("c", "GetObject"),
    ]
    record = full_record(stored[2])
    assert record["requestParameters"] == {"b": [1, 2]} and record["x"] is None
    assert str(stored[2]["_cq_id"]) == writer.event_cq_id("c")
    assert stored[2]["event_time"] == datetime(2024, 8, 1, 10, tzinfo=UTC).replace(tzinfo=None)


def test_a_concurrent_run_that_stored_an_id_first_is_not_an_error(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL only: on DuckDB one process writes a lake file at a time."""
    with Lake.open(pg_schema_url) as lake:
        lake.ensure_tables([events_table(lake.dialect), INGEST_STATE])
        writer.insert_events(lake, _rows(["a"]))
        # As if another run stored "a" between this run's check and its insert.
        monkeypatch.setattr(writer, "existing_ids", lambda lake, ids: set())
        with lake.transaction():
            writer.insert_events(lake, _rows(["a", "b"], name="GetObject"))
        stored = _stored(lake)
    assert [(r["event_id"], r["event_name"]) for r in stored] == [
        ("a", "ListBuckets"),
        ("b", "GetObject"),
    ]


def test_existing_ids_in_chunks(events_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "_CHUNK", 3)
    writer.insert_events(events_lake, _rows([f"id{n}" for n in range(0, 10, 2)]))
    asked = [f"id{n}" for n in range(10)]
    assert writer.existing_ids(events_lake, asked) == {f"id{n}" for n in range(0, 10, 2)}


def test_a_nul_character_is_stored_and_never_fails_the_file(events_lake: Lake) -> None:
    """A caller controls a failed call's parameters and its user agent: NUL must not block."""
    text = (
        '{"Records": [{"eventID": "n1", "eventTime": "2024-08-01T10:00:00Z", '
        '"eventName": "Get\\u0000Object", "eventSource": "s3.amazonaws.com", '
        '"userAgent": "curl\\u0000", "requestParameters": {"bucketName": "b\\u0000", '
        '"kept": "a\\\\u0000b"}}]}'
    )
    assert writer.insert_events(events_lake, parse_file(text.encode(), "f.json").rows) == 1
    (row,) = _stored(events_lake)
    record = full_record(row)
    # DuckDB keeps the NUL; PostgreSQL's text and jsonb cannot, so it stores U+FFFD instead.
    nul = "\x00" if events_lake.dialect == "duckdb" else "\ufffd"
    assert row["event_name"] == f"Get{nul}Object" and row["user_agent"] == f"curl{nul}"
    assert record["requestParameters"] == {"bucketName": f"b{nul}", "kept": "a\\u0000b"}


def test_a_lone_surrogate_is_stored_as_a_replacement_character(lake: Lake, tmp_path: Path) -> None:
    """`\\ud800` alone is valid JSON but no character: the file must still be ingested."""
    records = [
        '{"eventID": "s1", "eventName": "a\\ud800b", "eventSource": "s3.amazonaws.com", '
        '"eventTime": "2024-08-01T10:00:00Z", "requestParameters": {"k\\udc00": "x\\udc00"}}',
        # A real pair stays the character it encodes.
        '{"eventID": "s2", "eventName": "\\ud83d\\ude00", "eventSource": "s3.amazonaws.com", '
        '"eventTime": "2024-08-01T10:00:00Z"}',
    ]
    path = tmp_path / "surrogates.json"
    path.write_text('{"Records": [' + ", ".join(records) + "]}")
    report = ingest(lake, list_sources([str(path)]))
    assert (report.count("ingested"), report.inserted) == (1, 2)
    rows = {str(r["event_id"]): r for r in _stored(lake)}
    assert rows["s1"]["event_name"] == "a\ufffdb" and rows["s2"]["event_name"] == "\U0001f600"
    assert full_record(rows["s1"])["requestParameters"] == {"k\ufffd": "x\ufffd"}


def test_numbers_beyond_a_double_and_nan_are_kept_as_text(lake: Lake, tmp_path: Path) -> None:
    """`1e999` read as a float is `Infinity` when written back, which is no JSON."""
    path = tmp_path / "numbers.json"
    path.write_text(
        '{"eventID": "i1", "eventName": "x", "eventSource": "s3.amazonaws.com", '
        '"eventTime": "2024-08-01T10:00:00Z", "requestParameters": {"n": 1e999, "m": -1e999, '
        '"q": NaN, "small": 1.5, "big": 123456789012345678901234567890}}\n'
        '{"eventID": "i2", "eventName": "y", "eventSource": "s3.amazonaws.com", '
        '"eventTime": "2024-08-01T10:00:00Z"}\n'
    )
    report = ingest(lake, list_sources([str(path)]))
    assert report.inserted == 2 and report.count("failed") == 0
    row = next(r for r in _stored(lake) if r["event_id"] == "i1")
    params = full_record(row)["requestParameters"]
    assert (params["small"], params["big"]) == (1.5, 123456789012345678901234567890)
    if lake.dialect == "duckdb":  # DuckDB's own reader took the file: the text as it was
        (stored,) = lake.query(
            "SELECT CAST(request_parameters AS VARCHAR) AS p FROM aws_cloudtrail_events "
            "WHERE event_id = 'i1'"
        )
        assert '"n":1e999' in stored["p"] and '"q":NaN' in stored["p"]
    else:
        assert (params["n"], params["m"], params["q"]) == ("1e999", "-1e999", "NaN")


def test_json_nested_too_deep_for_python_is_reported(lake: Lake, tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "deep.json"
    path.write_text(
        '{"Records": [{"eventID": "d1", "eventName": "x", "eventSource": "s3.amazonaws.com", '
        f'"eventTime": "2024-08-01T10:00:00Z", "requestParameters": {deep}}}]}}'
    )
    report = ingest(lake, list_sources([str(path)]))
    if lake.dialect == "duckdb":  # DuckDB's reader reads any depth
        assert report.inserted == 1
    else:  # the Python path cannot: the file is reported, and read again next run
        (outcome,) = report.files
        assert outcome.outcome == "failed" and "nested too deeply" in outcome.error


def test_a_file_name_that_is_not_utf8_is_ingested_once(lake: Lake, tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/trail\xff.json"
    with open(name, "wb") as handle:
        handle.write(
            b'{"Records": [{"eventID": "u1", "eventName": "x", "eventSource": "s3.amazonaws.com",'
            b' "eventTime": "2024-08-01T10:00:00Z"}]}'
        )
    first = ingest(lake, list_sources([str(tmp_path)]))
    (outcome,) = first.files
    assert outcome.uri.endswith("/trail\\xff.json") and first.inserted == 1
    assert ingest(lake, list_sources([str(tmp_path)])).count("skipped") == 1
    assert [r["source"] for r in _stored(lake)] == [outcome.uri]


def test_a_file_over_the_limit_once_decompressed_is_reported_not_read(
    lake: Lake, tmp_path: Path
) -> None:
    """A few MB of gzip can hold many GB: a planted gzip bomb must not stop ingestion."""
    record = (
        '{"eventID": "%s", "eventName": "x", "eventSource": "s3.amazonaws.com", '
        '"eventTime": "2024-08-01T10:00:00Z"}'
    )
    bomb = '{"Records": [' + " " * 200_000 + record % "b1" + "]}"
    (tmp_path / "bomb.json.gz").write_bytes(gzip.compress(bomb.encode()))
    (tmp_path / "big.json").write_text(bomb)  # not compressed: not even read
    good = '{"Records": [' + record % "o1" + "]}"
    (tmp_path / "ok.json.gz").write_bytes(gzip.compress(good.encode()))
    for _ in range(2):  # not marked done: the next run says it again
        report = ingest(lake, list_sources([str(tmp_path)]), max_file_bytes=100_000)
        outcomes = {Path(f.uri).name: f for f in report.files}
        for name in ("bomb.json.gz", "big.json"):
            assert outcomes[name].outcome == "failed"
            assert outcomes[name].error.startswith("over 100,000 bytes, decompressed")
    assert [r["event_id"] for r in _stored(lake)] == ["o1"]
    assert ingest(lake, list_sources([str(tmp_path / "bomb.json.gz")])).inserted == 1
