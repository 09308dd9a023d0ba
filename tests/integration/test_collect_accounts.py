"""Many accounts through STS AssumeRole, and throttling, over HTTP against moto behind a tiny
loopback proxy that can answer some requests itself (AccessDenied, ThrottlingException)."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from opencwpp.collect.accounts import assume_role, org_account_ids, sync_accounts
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import SyncFailed, sync_aws
from opencwpp.lake.lake import Lake
from tests.integration.test_collect_detection_services import account_session

MANAGEMENT = "555566667777"
BLOCKED = "444455556666"
ROLE = "OrganizationAccountAccessRole"
Answer = tuple[int, str, bytes]
Rule = Callable[[str, dict[str, list[str]]], Answer | None]


@contextmanager
def proxy(upstream: str, rule: Rule) -> Iterator[str]:
    """A loopback HTTP proxy to `upstream`; `rule(operation, form)` may answer a request itself."""
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            amz_target = self.headers.get("X-Amz-Target", "")
            form = parse_qs(body.decode("utf-8", "replace")) if not amz_target else {}
            operation = amz_target.rpartition(".")[2] or (form.get("Action") or [""])[0]
            answer = rule(operation, form)
            if answer is None:
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                conn.request(self.command, self.path, body, dict(self.headers))
                upstream_answer = conn.getresponse()
                answer = (
                    upstream_answer.status,
                    upstream_answer.getheader("Content-Type", ""),
                    upstream_answer.read(),
                )
                conn.close()
            status, content_type, payload = answer
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def deny_assume(account: str) -> Rule:
    """Answers STS AssumeRole into `account` with AccessDenied (query protocol, HTTP 403)."""

    def rule(operation: str, form: dict[str, list[str]]) -> Answer | None:
        if operation == "AssumeRole" and f"::{account}:" in (form.get("RoleArn") or [""])[0]:
            body = (
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                "<Message>not authorized to perform sts:AssumeRole</Message></Error>"
                "<RequestId>1</RequestId></ErrorResponse>"
            )
            return 403, "text/xml", body.encode()
        return None

    return rule


@pytest.fixture(scope="module")
def org(moto_endpoint: str) -> dict[str, Any]:
    """An organization: the management account and one member, each with an SQS queue."""
    session = account_session(moto_endpoint, MANAGEMENT)
    client = session.client("organizations", endpoint_url=moto_endpoint)
    client.create_organization(FeatureSet="ALL")
    member = client.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"][
        "AccountId"
    ]
    session.client("sqs", endpoint_url=moto_endpoint).create_queue(QueueName="mgmt-q")
    account_session(moto_endpoint, member).client("sqs", endpoint_url=moto_endpoint).create_queue(
        QueueName="member-q"
    )
    return {"session": session, "member": member}


def _sqs() -> list[Any]:
    return [r for r in load_resources() if r.name in ("sqs.queues", "organizations.organization")]


def test_two_accounts_in_parallel_one_blocked_is_reported(
    lake: Lake, moto_endpoint: str, org: dict[str, Any]
) -> None:
    with proxy(moto_endpoint, deny_assume(BLOCKED)) as url:
        base = AwsContext(org["session"], endpoint_url=url)
        ids = org_account_ids(base)
        assert ids == sorted([MANAGEMENT, org["member"]])
        with pytest.raises(SyncFailed) as failed:
            sync_accounts(
                lake,
                base,
                [*ids, BLOCKED],
                ROLE,
                external_id="ext-1",
                regions=["us-east-1"],
                resources=_sqs(),
            )
    report = failed.value.report
    assert sorted(report.accounts) == ids
    assert list(report.account_failures) == [BLOCKED]
    assert "AccessDenied" in report.account_failures[BLOCKED] and BLOCKED in str(failed.value)
    assert not report.failed and not report.not_assessed
    queues = lake.query(
        "SELECT account_id, url FROM aws_sqs_queues WHERE region = ? ORDER BY account_id",
        ["us-east-1"],
    )
    by_account = {q["account_id"]: q["url"] for q in queues}
    assert by_account[MANAGEMENT].endswith("/mgmt-q")
    assert by_account[org["member"]].endswith("/member-q")
    org_rows = lake.query(
        "SELECT request_account_id, master_account_id FROM aws_organizations "
        "WHERE 1 = ? ORDER BY request_account_id",
        [1],
    )
    assert {r["master_account_id"] for r in org_rows} == {MANAGEMENT}
    assert len(org_rows) == 2
    blocked = lake.query(
        "SELECT table_name, region, status FROM cwpp_sync_errors WHERE account_id = ?", [BLOCKED]
    )
    assert {(b["table_name"], b["region"], b["status"]) for b in blocked} == {
        ("aws_sqs_queues", "us-east-1", "not_assessed"),
        ("aws_organizations", "", "not_assessed"),
    }


def throttle_first(operations: set[str], times: int) -> tuple[Rule, dict[str, int]]:
    """Answers ThrottlingException (JSON protocol) to the first `times` calls of each operation."""
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def rule(operation: str, form: dict[str, list[str]]) -> Answer | None:
        if operation not in operations:
            return None
        with lock:
            seen[operation] = seen.get(operation, 0) + 1
            if seen[operation] > times:
                return None
        body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
        return 400, "application/x-amz-json-1.1", body

    return rule, seen


def test_throttling_recovers_with_nothing_lost(
    tmp_path: Path, moto_endpoint: str, org: dict[str, Any]
) -> None:
    resources = [r for r in load_resources() if r.name.startswith("organizations.")]
    ops = {"ListPolicies", "ListRoots"}
    ctx = AwsContext(org["session"], endpoint_url=moto_endpoint, account_id=MANAGEMENT)
    with Lake.open(f"duckdb:///{tmp_path}/direct.duckdb") as lake:
        sync_aws(lake, ctx, ["us-east-1"], resources=resources)
        expected = lake.query(
            "SELECT arn FROM aws_organizations_policies WHERE 1 = ? ORDER BY arn", [1]
        )
    rule, seen = throttle_first(ops, times=2)
    with proxy(moto_endpoint, rule) as url, Lake.open(f"duckdb:///{tmp_path}/t.duckdb") as lake:
        ctx = AwsContext(org["session"], endpoint_url=url, account_id=MANAGEMENT)
        report = sync_aws(lake, ctx, ["us-east-1"], resources=resources)
        got = lake.query("SELECT arn FROM aws_organizations_policies WHERE 1 = ? ORDER BY arn", [1])
        accounts = lake.query(
            "SELECT count(*) AS n FROM aws_organizations_accounts WHERE 1 = ?", [1]
        )
    assert not report.failed and not report.not_assessed
    assert all(seen[o] > 2 for o in ops), seen  # every operation was throttled, then went through
    assert got == expected and len(got) >= 2
    assert accounts == [{"n": 2}]


def test_cli_sync_with_accounts_exits_non_zero_with_a_summary(
    tmp_path: Path, moto_endpoint: str, org: dict[str, Any]
) -> None:
    creds = org["session"].get_credentials()
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "AWS_ACCESS_KEY_ID": creds.access_key,
        "AWS_SECRET_ACCESS_KEY": creds.secret_key,
        "AWS_SESSION_TOKEN": creds.token,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "COLUMNS": "200",
    }
    with proxy(moto_endpoint, deny_assume(BLOCKED)) as url:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "opencwpp",
                "sync",
                "aws",
                "--endpoint-url",
                url,
                "--regions",
                "us-east-1",
                "--accounts",
                BLOCKED,
                "--org-role",
                ROLE,
                "--lake",
                f"duckdb:///{tmp_path}/lake.duckdb",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    assert f"account {BLOCKED}" in done.stderr and "AccessDenied" in done.stderr
    assert "error: sync incomplete, 1 failure(s)" in done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "opencwpp", "sync", "aws", "--accounts", "12345"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "12 digits" in bad.stderr


def short_lived_assume(upstream: str, seen: list[str]) -> Rule:
    """Forwards AssumeRole but says its credentials expire in five minutes (inside botocore's
    mandatory refresh window), so the next use of them must assume the role again."""
    target = urlsplit(upstream)

    def rule(operation: str, form: dict[str, list[str]]) -> Answer | None:
        if operation != "AssumeRole":
            return None
        seen.append((form.get("RoleArn") or [""])[0])
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        body = urlencode({k: v[0] for k, v in form.items()})
        # moto routes by the signing scope; the signature itself is not checked.
        auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sts/aws4_request"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth}
        conn.request("POST", "/", body, headers)
        answer = conn.getresponse().read().decode()
        conn.close()
        soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        answer = re.sub(
            r"<Expiration>[^<]*</Expiration>", f"<Expiration>{soon}</Expiration>", answer
        )
        return 200, "text/xml", answer.encode()

    return rule


def test_assumed_role_credentials_renew_before_they_expire(
    moto_endpoint: str, org: dict[str, Any]
) -> None:
    seen: list[str] = []
    with proxy(moto_endpoint, short_lived_assume(moto_endpoint, seen)) as url:
        base = AwsContext(org["session"], endpoint_url=url, account_id=MANAGEMENT)
        member = assume_role(base, org["member"], ROLE)
        sqs = member.client("sqs", "us-east-1")
        first = sqs.list_queues()["QueueUrls"]
        second = sqs.list_queues()["QueueUrls"]
    assert first == second and any(q.endswith("/member-q") for q in first)
    assert len(seen) >= 3, seen  # the first AssumeRole, then one renewal before each call
    assert set(seen) == {f"arn:aws:iam::{org['member']}:role/{ROLE}"}
    assert member.account_id == org["member"]
