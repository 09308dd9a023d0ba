"""CloudTrail's LookupEvents API as a source, and `cwpp detect run --follow`.

moto has no LookupEvents, so a loopback server answers it (and STS GetCallerIdentity) with
CloudTrail's JSON protocol: boto3 makes real HTTP calls, pages with NextToken, and the server
filters by the requested time window, as CloudTrail does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from opencwpp.cli import app
from opencwpp.collect.aws.session import AwsContext
from opencwpp.core.errors import UsageError
from opencwpp.detect.ingest import ingest, ingested_uris, list_sources
from opencwpp.detect.ingest.sources import LOOKUP_OVERLAP
from opencwpp.lake import Lake

ACCOUNT = "111111111111"
PAGE = 2  # events per page: every listing below spans several pages


class Trail:
    """The events the fake API holds, what it was asked, and an optional failure to answer."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.fail_with: tuple[int, str] | None = None

    def add(self, name: str, at: datetime, event_id: str) -> None:
        record = {
            "eventVersion": "1.09",
            "eventID": event_id,
            "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "cloudtrail.amazonaws.com",
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.9",
            "userAgent": "aws-cli/2.15.0",
            "userIdentity": {
                "type": "IAMUser",
                "arn": f"arn:aws:iam::{ACCOUNT}:user/mallory",
                "accountId": ACCOUNT,
                "userName": "mallory",
            },
            "requestParameters": {"name": "main-trail"},
            "recipientAccountId": ACCOUNT,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "readOnly": False,
        }
        self.events.append(
            {
                "EventId": event_id,
                "EventName": name,
                "EventTime": at.timestamp(),
                "EventSource": "cloudtrail.amazonaws.com",
                "CloudTrailEvent": json.dumps(record),
            }
        )


def _handler(trail: Trail) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            target = self.headers.get("X-Amz-Target", "")
            if not target:  # STS, query protocol
                xml = (
                    "<GetCallerIdentityResponse><GetCallerIdentityResult>"
                    f"<Account>{ACCOUNT}</Account><Arn>arn:aws:iam::{ACCOUNT}:user/t</Arn>"
                    "<UserId>AIDA</UserId></GetCallerIdentityResult></GetCallerIdentityResponse>"
                )
                self._send(200, xml.encode(), "text/xml")
                return
            request = json.loads(body or b"{}")
            trail.requests.append(request)
            if trail.fail_with is not None:
                status, code = trail.fail_with
                error = {"__type": code, "message": "no"}
                self._send(status, json.dumps(error).encode(), "application/x-amz-json-1.1")
                return
            start, end = float(request["StartTime"]), float(request["EndTime"])
            found = [e for e in trail.events if start <= e["EventTime"] <= end]
            found.sort(key=lambda e: -e["EventTime"])  # newest first, as CloudTrail answers
            offset = int(request.get("NextToken", "0"))
            answer: dict[str, Any] = {"Events": found[offset : offset + PAGE]}
            if offset + PAGE < len(found):
                answer["NextToken"] = str(offset + PAGE)
            self._send(200, json.dumps(answer).encode(), "application/x-amz-json-1.1")

    return Handler


@pytest.fixture
def trail() -> Iterator[tuple[Trail, str]]:
    state = Trail()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _aws(endpoint: str) -> AwsContext:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return AwsContext(session, endpoint_url=endpoint, account_id=ACCOUNT)


def test_lookup_windows_follow_on_and_failures_are_retried(
    lake: Lake, trail: tuple[Trail, str]
) -> None:
    state, endpoint = trail
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(5):
        state.add("DescribeTrails", now - timedelta(hours=2, minutes=i), f"old-{i}")
    state.add("StopLogging", now - timedelta(days=3), "too-old")  # before the first window

    clock = {"now": now}

    def run() -> Any:
        clock["now"] += timedelta(minutes=1)  # each run a minute after the last
        done = ingested_uris(lake)
        files = list_sources(
            ["lookup:us-east-1"], lambda: _aws(endpoint), done=done, now=clock["now"]
        )
        return ingest(lake, files)

    first = run()
    assert first.inserted == 5 and first.count("ingested") == 1
    assert len(state.requests) == 3  # five events, two per page
    uri = first.files[0].uri
    assert uri.startswith(f"lookup://{ACCOUNT}/us-east-1/")
    first_end = datetime.strptime(uri.rsplit("/", 1)[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)

    # The next window starts where the last ended, less the margin for late events.
    state.requests.clear()
    state.add("StopLogging", now - timedelta(minutes=5), "late")  # shown late, still inside
    second = run()
    starts = {float(r["StartTime"]) for r in state.requests}
    assert starts == {(first_end - LOOKUP_OVERLAP).timestamp()}
    assert second.inserted == 1

    # A failing API is a failed source, named, and the window is asked again next time.
    state.fail_with = (400, "AccessDeniedException")
    failed = run()
    assert failed.count("failed") == 1 and "AccessDenied" in failed.files[0].error
    state.fail_with = None
    state.requests.clear()
    state.add("DeleteTrail", now + timedelta(minutes=3, seconds=30), "after")
    retried = run()
    assert retried.count("ingested") == 1
    assert {float(r["StartTime"]) for r in state.requests} != starts  # from the second window on
    rows = lake.query("SELECT event_id FROM aws_cloudtrail_events ORDER BY event_id")
    assert [r["event_id"] for r in rows] == ["after", "late", *(f"old-{i}" for i in range(5))]


def test_follow_prints_alerts_as_new_events_arrive(
    lake_url: str, trail: tuple[Trail, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, endpoint = trail
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    now = datetime.now(UTC)
    state.add("DescribeTrails", now - timedelta(minutes=30), "quiet-1")
    polls = {"n": 0}

    def sleep(_: float) -> None:  # between polls, the attacker stops the trail
        polls["n"] += 1
        state.add("StopLogging", datetime.now(UTC) - timedelta(seconds=5), f"stop-{polls['n']}")

    monkeypatch.setattr("opencwpp.cli.detect_commands.time.sleep", sleep)
    args = ["detect", "run", "--follow", "--source", "lookup:us-east-1", "--polls", "2"]
    result = CliRunner().invoke(app, [*args, "--interval", "0.1", "--lake", lake_url])
    assert result.exit_code == 0, result.output
    assert polls["n"] == 1
    text = " ".join(result.output.split())  # the console wraps long lines
    assert "rule(s) run, 0 alert(s)" in text  # the first poll: nothing to alert on yet
    alert = (
        "new alert high CloudTrail trail logging stopped by arn:aws:iam::111111111111:user/mallory"
    )
    assert text.count("new alert") == 1 and alert in text, text
    assert "followed 2 poll(s); 1 open alert(s)" in text
    with Lake.open(lake_url) as lake:
        assert lake.query("SELECT count(*) AS n FROM aws_cloudtrail_events")[0]["n"] == 2


def test_follow_needs_a_source(lake_url: str) -> None:
    result = CliRunner().invoke(app, ["detect", "run", "--follow", "--lake", lake_url])
    assert isinstance(result.exception, UsageError)
    assert "--follow needs at least one --source" in str(result.exception)
