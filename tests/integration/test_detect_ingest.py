"""Ingestion into a real lake (DuckDB and PostgreSQL) and from a moto S3 bucket over HTTP."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import boto3
import pytest

from opencwpp.collect.aws.session import AwsContext
from opencwpp.detect.ingest import ingest, list_sources
from opencwpp.detect.ingest.records import full_record
from opencwpp.detect.ingest.table import EVENTS, drop_event_key
from opencwpp.lake import Lake


def _event(n: int, **extra: object) -> dict[str, object]:
    return {
        "eventID": f"id-{n:04d}",
        "eventTime": f"2024-07-31T13:{n % 60:02d}:00Z",
        "eventName": "GetObject",
        "eventSource": "s3.amazonaws.com",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.7",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::111122223333:assumed-role/r/{n}",
        },
        **extra,
    }


def _records_gz(path: Path, events: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": events}).encode()))
    return path


def _count(lake: Lake) -> int:
    return int(lake.query("SELECT count(*) AS n FROM aws_cloudtrail_events")[0]["n"])


@pytest.mark.parametrize("fast", [True, False], ids=["bulk", "python"])
def test_idempotent_incremental_and_bad_input(lake: Lake, tmp_path: Path, fast: bool) -> None:
    _records_gz(tmp_path / "a.json.gz", [_event(i) for i in range(10)])
    (tmp_path / "b.json").write_text(json.dumps([_event(i) for i in range(5, 15)]))
    (tmp_path / "c.json.gz").write_bytes(gzip.compress(b'{"Records": [')[:-5])  # corrupt gzip
    (tmp_path / "d.json").write_text(json.dumps([_event(20)])[:-30])  # truncated
    (tmp_path / "e.json").write_text(json.dumps({"name": "not a trail"}))
    big = _event(21, requestParameters={"blob": "x" * 4000})
    (tmp_path / "f.ndjson").write_text(json.dumps(_event(22)) + "\n" + json.dumps(big) + "\n")

    report = ingest(lake, list_sources([str(tmp_path)]), max_record_bytes=3000, fast=fast)
    by_name = {Path(f.uri).name: f for f in report.files}
    assert _count(lake) == 16  # 0..14 and 22: the overlap of a and b stored once
    assert (by_name["a.json.gz"].inserted, by_name["b.json"].inserted) == (10, 5)
    assert by_name["b.json"].duplicates == 5
    assert by_name["c.json.gz"].outcome == "failed" and by_name["c.json.gz"].error
    assert by_name["d.json"].outcome == "failed" and by_name["d.json"].error
    assert by_name["e.json"].outcome == "failed"
    assert by_name["f.ndjson"].outcome == "partial"
    assert by_name["f.ndjson"].rejected == {"record over 3000 bytes": 1}

    again = ingest(lake, list_sources([str(tmp_path)]), fast=fast)
    outcomes = {Path(f.uri).name: f.outcome for f in again.files}
    assert outcomes["a.json.gz"] == outcomes["b.json"] == outcomes["f.ndjson"] == "skipped"
    assert outcomes["c.json.gz"] == outcomes["d.json"] == "failed"  # retried, not marked done
    assert _count(lake) == 16

    (tmp_path / "d.json").write_text(json.dumps([_event(20)]))  # fixed upstream
    fixed = ingest(lake, list_sources([str(tmp_path / "d.json")]), fast=fast)
    assert fixed.files[0].outcome == "ingested" and _count(lake) == 17
    row = lake.query("SELECT * FROM aws_cloudtrail_events WHERE event_id = 'id-0003'")[0]
    assert row["event_name"] == "GetObject" and str(row["event_time"]) == "2024-07-31 13:03:00"
    assert row["user_identity_type"] == "AssumedRole" and row["source"].endswith("a.json.gz")


def test_s3_bucket_in_the_real_delivery_layout(
    lake: Lake, moto_endpoint: str, tmp_path: Path
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="trail-logs")
    keys = {
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/07/31/a_CloudTrail_eu-west-1.json.gz": 0,
        "AWSLogs/o-abc123def4/444455556666/CloudTrail/us-east-1/2024/08/01/b.json.gz": 100,
    }
    for key, base in keys.items():
        body = gzip.compress(json.dumps({"Records": [_event(base + i) for i in range(3)]}).encode())
        s3.put_object(Bucket="trail-logs", Key=key, Body=body)
    s3.put_object(
        Bucket="trail-logs", Key="AWSLogs/111122223333/CloudTrail-Digest/x.json.gz", Body=b"x"
    )
    s3.put_object(
        Bucket="trail-logs",
        Key="AWSLogs/111122223333/CloudTrail/eu-west-1/2024/07/31/bad.json.gz",
        Body=b"\x1f\x8bjunk",
    )

    def aws() -> AwsContext:
        return AwsContext.create(endpoint_url=moto_endpoint, region="us-east-1")

    report = ingest(lake, list_sources(["s3://trail-logs/AWSLogs/"], aws))
    assert sorted(f.outcome for f in report.files) == ["failed", "ingested", "ingested"]
    assert _count(lake) == 6
    again = ingest(lake, list_sources(["s3://trail-logs/AWSLogs/"], aws))
    assert sorted(f.outcome for f in again.files) == ["failed", "skipped", "skipped"]
    assert all(f.uri.startswith("s3://trail-logs/AWSLogs/") for f in again.files)


@pytest.mark.parametrize("fast", [True, False], ids=["bulk", "python"])
def test_the_whole_record_is_kept_once(lake: Lake, tmp_path: Path, fast: bool) -> None:
    record = _event(
        1,
        eventVersion="1.08",
        readOnly=True,
        requestParameters=None,  # an explicit null stays (in `raw`)
        responseElements={"x": [1, "two", {"three": None}]},
        futureField={"added": "by CloudTrail later"},
        userAgent='quote " and \\ backslash',
    )
    other = _event(2, requestParameters={"bucketName": "b"})
    _records_gz(tmp_path / "a.json.gz", [record, other])
    ingest(lake, list_sources([str(tmp_path)]), fast=fast)
    rows = lake.query("SELECT * FROM aws_cloudtrail_events ORDER BY event_id")
    assert [full_record(r) for r in rows] == [record, other]
    raw, params = rows[0]["raw"], rows[1]["request_parameters"]  # text, or decoded (PostgreSQL)
    assert (json.loads(raw) if isinstance(raw, str) else raw) == {
        "eventTime": record["eventTime"],
        "readOnly": True,
        "requestParameters": None,
        "futureField": {"added": "by CloudTrail later"},
    }
    assert (json.loads(params) if isinstance(params, str) else params) == {"bucketName": "b"}


@pytest.mark.parametrize("fast", [True, False], ids=["bulk", "python"])
def test_copies_of_an_event_keep_the_first_and_count_per_file(
    lake: Lake, tmp_path: Path, fast: bool
) -> None:
    first = [_event(i) for i in range(10)] + [_event(3, eventName="SecondCopyInTheFile")]
    second = [_event(i, eventName="FromFileB") for i in range(5, 15)]
    no_id = {k: v for k, v in _event(99).items() if k != "eventID"}
    third = [no_id, _event(0, eventName="FromFileC")]
    for name, events in (("a", first), ("b", second), ("c", third)):
        _records_gz(tmp_path / f"{name}.json.gz", events)  # one batch, one format

    report = ingest(lake, list_sources([str(tmp_path)]), fast=fast)
    by_name = {Path(f.uri).name: f for f in report.files}
    counts = {n: (f.read, f.inserted, f.duplicates, f.outcome) for n, f in by_name.items()}
    assert counts == {
        "a.json.gz": (11, 10, 1, "ingested"),
        "b.json.gz": (10, 5, 5, "ingested"),
        "c.json.gz": (2, 0, 1, "partial"),
    }
    assert by_name["c.json.gz"].rejected == {
        "not a CloudTrail record (no eventID/eventName/eventSource)": 1
    }
    rows = lake.query(
        "SELECT event_id, event_name, source FROM aws_cloudtrail_events ORDER BY event_id"
    )
    assert [r["event_id"] for r in rows] == [f"id-{i:04d}" for i in range(15)]
    kept = {r["event_id"]: (r["event_name"], Path(r["source"]).name) for r in rows}
    assert kept["id-0003"] == ("GetObject", "a.json.gz")  # not the file's second copy
    assert kept["id-0005"] == ("GetObject", "a.json.gz") and kept["id-0012"][1] == "b.json.gz"

    again = ingest(lake, list_sources([str(tmp_path)]), force=True, fast=fast)
    assert (again.read, again.inserted, again.rejected) == (23, 0, 1)
    assert _count(lake) == 15  # no marker or copy left behind


@pytest.mark.parametrize("fast", [True, False], ids=["bulk", "python"])
def test_s3_objects_read_together_and_one_gone_before_it_is_read(
    lake: Lake, moto_endpoint: str, fast: bool
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="busy-trail")
    prefix = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/07/31/"
    for n in range(25):
        events = [_event(n * 10 + i) for i in range(3)]
        s3.put_object(
            Bucket="busy-trail",
            Key=f"{prefix}{n:03d}.json.gz",
            Body=gzip.compress(json.dumps({"Records": events}).encode()),
        )

    def aws() -> AwsContext:
        return AwsContext.create(endpoint_url=moto_endpoint, region="us-east-1")

    listed = list(list_sources([f"s3://busy-trail/{prefix}"], aws))
    gone = s3.get_object(Bucket="busy-trail", Key=f"{prefix}007.json.gz")["Body"].read()
    s3.delete_object(Bucket="busy-trail", Key=f"{prefix}007.json.gz")
    report = ingest(lake, listed, fast=fast)
    failed = [f for f in report.files if f.outcome == "failed"]
    assert [f.uri for f in failed] == [f"s3://busy-trail/{prefix}007.json.gz"]
    assert "cannot read" in failed[0].error and report.count("ingested") == 24
    assert _count(lake) == 72

    s3.put_object(Bucket="busy-trail", Key=f"{prefix}007.json.gz", Body=gone)  # back
    again = ingest(lake, list_sources([f"s3://busy-trail/{prefix}"], aws), fast=fast)
    assert [f.outcome for f in again.files].count("ingested") == 1  # retried, the rest skipped
    assert _count(lake) == 75


def test_an_older_duckdb_lake_loses_its_event_key_and_keeps_its_events(tmp_path: Path) -> None:
    with Lake.open(f"duckdb://{tmp_path / 'older.duckdb'}") as lake:
        lake.ensure_tables([EVENTS])  # as made before: event_id is the table's primary key
        _records_gz(tmp_path / "in" / "a.json.gz", [_event(i) for i in range(5)])
        ingest(lake, list_sources([str(tmp_path / "in")]), fast=False)
        before = lake.query("SELECT * FROM aws_cloudtrail_events ORDER BY event_id")

        no_id = {k: v for k, v in _event(99).items() if k != "eventID"}
        _records_gz(tmp_path / "in" / "b.json.gz", [_event(3), _event(7), _event(7), no_id])
        report = ingest(lake, list_sources([str(tmp_path / "in")]))
        b = next(f for f in report.files if f.uri.endswith("b.json.gz"))
        assert (b.read, b.inserted, b.duplicates, b.outcome) == (4, 1, 2, "partial")
        keys = lake.query(
            "SELECT constraint_type FROM duckdb_constraints() "
            "WHERE table_name = 'aws_cloudtrail_events'"
        )
        assert keys == []  # no key, no NOT NULL: markers and copies can be written
        after = lake.query("SELECT * FROM aws_cloudtrail_events ORDER BY event_id")
        assert after[:5] == before and [r["event_id"] for r in after[5:]] == ["id-0007"]
        assert drop_event_key(lake) is False  # done once
