"""CloudTrail file parsing: formats, bad input per reason, times, the S3 delivery layout."""

from __future__ import annotations

import gzip
import json

import pytest

from opencwpp.detect.ingest.records import BadFile, full_record, parse_file, parse_time
from opencwpp.detect.ingest.sources import delivery_parts


def _event(n: int, **extra: object) -> dict[str, object]:
    return {
        "eventID": f"id-{n}",
        "eventTime": "2024-07-31T13:06:24Z",
        "eventName": "StopLogging",
        "eventSource": "cloudtrail.amazonaws.com",
        "readOnly": False,
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a"},
        **extra,
    }


@pytest.mark.parametrize(
    "payload",
    [
        json.dumps({"Records": [_event(1), _event(2)]}).encode(),
        json.dumps([_event(1), _event(2)]).encode(),
        (json.dumps(_event(1)) + "\n" + json.dumps(_event(2)) + "\n").encode(),
        gzip.compress(json.dumps({"Records": [_event(1), _event(2)]}).encode()),
    ],
    ids=["records", "array", "ndjson", "gzip"],
)
def test_every_delivery_format_gives_the_same_rows(payload: bytes) -> None:
    parsed = parse_file(payload, "f")
    assert [r["event_id"] for r in parsed.rows] == ["id-1", "id-2"]
    row = parsed.rows[0]
    assert row["user_identity_arn"] == "arn:aws:iam::111122223333:user/a"
    assert row["read_only"] is False
    assert full_record(row) == _event(1)  # every key back, stored once
    assert json.loads(row["raw"]) == {"eventTime": "2024-07-31T13:06:24Z", "readOnly": False}
    assert json.loads(row["user_identity"])["type"] == "IAMUser"


def test_corrupt_gzip_and_truncated_json_fail_the_file() -> None:
    good = gzip.compress(json.dumps([_event(1)]).encode())
    with pytest.raises(BadFile, match="corrupt gzip"):
        parse_file(good[:-12], "f")
    with pytest.raises(BadFile, match="truncated"):
        parse_file(json.dumps([_event(1)]).encode()[:-20], "f")
    with pytest.raises(BadFile, match="not JSON"):
        parse_file(b"hello", "f")


def test_bad_records_are_counted_by_reason_and_good_ones_kept() -> None:
    big = _event(3, requestParameters={"blob": "x" * 5000})
    lines = [
        json.dumps(_event(1)),
        '{"eventID": "id-2", "eventName"',
        json.dumps({"a": 1}),
        json.dumps(big),
        json.dumps(_event(4, eventTime="yesterday")),
    ]
    parsed = parse_file("\n".join(lines).encode(), "f", max_bytes=2000)
    assert [r["event_id"] for r in parsed.rows] == ["id-1"]
    assert parsed.rejected == {
        "invalid JSON line": 1,
        "not a CloudTrail record (no eventID/eventName/eventSource)": 1,
        "record over 2000 bytes": 1,
        "no valid eventTime": 1,
    }
    assert parsed.error.startswith("line 2:")


def test_times_are_naive_utc_and_long_fractions_accepted() -> None:
    assert str(parse_time("2024-07-31T13:06:24Z")) == "2024-07-31 13:06:24"
    assert str(parse_time("2024-07-31T15:06:24+02:00")) == "2024-07-31 13:06:24"
    assert str(parse_time("2025-03-26 16:43:57.000000000")) == "2025-03-26 16:43:57"
    assert parse_time("nope") is None


def test_delivery_layout_of_account_and_organization_trails() -> None:
    key = "s3://b/AWSLogs/111122223333/CloudTrail/eu-west-1/2024/07/31/x.json.gz"
    assert delivery_parts(key) == {
        "account": "111122223333",
        "region": "eu-west-1",
        "date": "2024-07-31",
    }
    org = "AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2024/01/02/x.json.gz"
    assert delivery_parts(org) == {
        "org": "o-abc123",
        "account": "111122223333",
        "region": "us-east-1",
        "date": "2024-01-02",
    }
    assert delivery_parts("AWSLogs/111122223333/CloudTrail-Digest/x") is None
