"""`cwpp detect run --follow` over an S3 trail (moto over HTTP): a poll that cannot list the
bucket is reported and the watch goes on; the first poll's failure still stops it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from opencwpp.cli import app
from opencwpp.detect.ingest import SourceError

BUCKET = "watched-trail"
PREFIX = "AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01/"


def _event(event_id: str, name: str, source: str) -> dict[str, object]:
    return {
        "eventVersion": "1.08",
        "eventID": event_id,
        "eventTime": "2024-08-01T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "recipientAccountId": "111111111111",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::111111111111:user/mallory",
            "accountId": "111111111111",
            "userName": "mallory",
        },
        "requestParameters": {"name": "main"},
    }


def _put(s3: Any, key: str, event: dict[str, object]) -> None:
    body = gzip.compress(json.dumps({"Records": [event]}).encode())
    s3.put_object(Bucket=BUCKET, Key=PREFIX + key, Body=body)


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    _empty(client)
    client.delete_bucket(Bucket=BUCKET)


def _empty(s3: Any) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=obj["Key"])


def test_a_poll_that_cannot_list_the_bucket_is_reported_and_the_watch_goes_on(
    lake_url: str, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(s3, "quiet.json.gz", _event("quiet-1", "DescribeTrails", "cloudtrail.amazonaws.com"))
    polls = {"n": 0}

    def sleep(_: float) -> None:  # the bucket is gone for one poll, then back with a new file
        polls["n"] += 1
        if polls["n"] == 1:
            _empty(s3)
            s3.delete_bucket(Bucket=BUCKET)
        elif polls["n"] == 2:
            s3.create_bucket(Bucket=BUCKET)
            _put(s3, "stop.json.gz", _event("stop-1", "StopLogging", "cloudtrail.amazonaws.com"))

    monkeypatch.setattr("opencwpp.cli.detect_commands.time.sleep", sleep)
    args = ["detect", "run", "--follow", "--source", f"s3://{BUCKET}/AWSLogs/", "--polls", "3"]
    result = CliRunner().invoke(app, [*args, "--interval", "0.1", "--lake", lake_url])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, text
    assert f"poll 2 failed: cannot list s3://{BUCKET}/AWSLogs/" in text, text
    assert "trying again in 0.1 s" in text
    assert "new alert high CloudTrail trail logging stopped" in text, text
    assert "followed 3 poll(s)" in text


def test_a_first_poll_that_cannot_list_stops_the_watch(lake_url: str, s3: Any) -> None:
    args = ["detect", "run", "--follow", "--source", "s3://no-such-trail-bucket/", "--polls", "3"]
    result = CliRunner().invoke(app, [*args, "--interval", "0.1", "--lake", lake_url])
    assert isinstance(result.exception, SourceError)
    assert "cannot list s3://no-such-trail-bucket/" in str(result.exception)
