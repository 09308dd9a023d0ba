"""The dashboard over real HTTP (uvicorn on loopback) on DuckDB and PostgreSQL lakes."""

import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from opencwpp.catalog import lake_tables
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import finish_run, load_mutelist, save_findings, start_run
from opencwpp.lake import Lake
from opencwpp.web import WebConfig
from opencwpp.web.server import check_binding, running

HOSTILE = "<img src=x onerror=alert(1)>"
ACCOUNT = "123456789012"
BUCKET = "arn:aws:s3:::hostile-bucket"


def _f(check: str, pillar: Pillar, sev: Severity, status: Status, uid: str, **kw: Any) -> Finding:
    return Finding(
        check_id=check,
        title=kw.pop("title", f"Title of {check}"),
        pillar=pillar,
        severity=sev,
        status=status,
        resource=ResourceRef(
            uid,
            kw.pop("type", "aws_s3_buckets"),
            ACCOUNT,
            "eu-west-1",
            kw.pop("name", ""),
            kw.pop("tags", {}),
        ),
        status_reason=kw.pop("reason", f"{check} says {status.value}"),
        compliance=kw.pop("compliance", {}),
        **kw,
    )


def seed_lake(lake: Lake) -> None:
    """Two assess runs, a threat detection, and an inventory row with a hostile tag."""
    public = _f(
        "s3_bucket_public_acl",
        Pillar.ACCESS,
        Severity.CRITICAL,
        Status.FAIL,
        BUCKET,
        name=HOSTILE,
        tags={"owner": HOSTILE},
        compliance={"cis-aws-3.0": ["2.1.4"]},
    )
    mfa = _f(
        "iam_user_console_mfa",
        Pillar.ACCESS,
        Severity.HIGH,
        Status.FAIL,
        f"arn:aws:iam::{ACCOUNT}:user/bob",
        type="aws_iam_users",
        name="bob",
        compliance={"cis-aws-3.0": ["1.10"]},
    )
    kms = _f(
        "kms_key_rotation",
        Pillar.ENCRYPTION,
        Severity.MEDIUM,
        Status.PASS,
        f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1",
        type="aws_kms_keys",
        compliance={"cis-aws-3.0": ["3.6"]},
    )
    checks = ["s3_bucket_public_acl", "iam_user_console_mfa", "kms_key_rotation"]
    run1 = start_run(lake, "assess")
    save_findings(lake, run1, [public, mfa, kms], checks)
    finish_run(lake, run1, "ok", {})
    run2 = start_run(lake, "assess")
    kms_bad = _f(
        "kms_key_rotation",
        Pillar.ENCRYPTION,
        Severity.MEDIUM,
        Status.FAIL,
        f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1",
        type="aws_kms_keys",
        compliance={"cis-aws-3.0": ["3.6"]},
    )
    mfa_ok = _f(
        "iam_user_console_mfa",
        Pillar.ACCESS,
        Severity.HIGH,
        Status.PASS,
        f"arn:aws:iam::{ACCOUNT}:user/bob",
        type="aws_iam_users",
        name="bob",
        compliance={"cis-aws-3.0": ["1.10"]},
    )
    save_findings(lake, run2, [public, mfa_ok, kms_bad], checks)
    finish_run(lake, run2, "ok", {})
    detect = start_run(lake, "detect")
    seen = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    alert = _f(
        "sigma_cloudtrail_stop_logging",
        Pillar.THREAT,
        Severity.HIGH,
        Status.FAIL,
        f"arn:aws:iam::{ACCOUNT}:user/mallory",
        type="cloudtrail_identity",
        title="CloudTrail logging stopped",
        mitre_attack=("T1562.008",),
        evidence={"event_count": 2, "event_ids": ["ev-1", HOSTILE]},
        first_seen=seen,
        last_seen=seen + timedelta(minutes=5),
    )
    save_findings(lake, detect, [alert], ["sigma_cloudtrail_stop_logging"])
    finish_run(lake, detect, "ok", {})
    buckets = lake_tables()["aws_s3_buckets"]
    lake.ensure_tables([buckets])
    lake.insert_rows(
        buckets,
        [
            {
                "_cq_id": str(uuid.uuid4()),
                "account_id": ACCOUNT,
                "arn": BUCKET,
                "name": "hostile-bucket",
                "region": "eu-west-1",
                "tags": {"owner": HOSTILE},
            }
        ],
    )


@pytest.fixture
def seeded_url(lake_url: str) -> str:
    with Lake.open(lake_url) as lake:
        seed_lake(lake)
    return lake_url


@pytest.fixture
def server(seeded_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    mutelist = tmp_path / "mutelist.yaml"
    mutelist.write_text("# team mutes\nmutes: []\n")
    with running(WebConfig(seeded_url, mutelist)) as base:
        yield base, mutelist


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw or b"{}")
        except ValueError:
            return err.code, {"text": raw.decode()}


def test_pages_render_with_escaped_data_and_strict_headers(server: tuple[str, Path]) -> None:
    base, _ = server
    for path in (
        "/",
        "/findings?status=FAIL",
        "/findings?group=check",
        "/compliance",
        "/threats",
        "/identity",
        f"/resource?uid={BUCKET}",
    ):
        status, body, headers = _get(base + path)
        assert status == 200, (path, body[:300])
        assert "<img src=x" not in body, path
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
    _, resource, _ = _get(f"{base}/resource?uid={BUCKET}")
    assert "&lt;img src=x onerror=alert(1)&gt;" in resource
    assert "aws_s3_buckets" in resource  # the inventory row, found by its ARN


def test_api_findings_filters_groups_and_overview(server: tuple[str, Path]) -> None:
    base, _ = server
    _, body, _ = _get(base + "/api/findings?status=FAIL")
    data = json.loads(body)
    assert data["total"] == 3
    assert {f["check_id"] for f in data["findings"]} == {
        "s3_bucket_public_acl",
        "kms_key_rotation",
        "sigma_cloudtrail_stop_logging",
    }
    _, body, _ = _get(base + "/api/findings?status=FAIL&severity=critical")
    assert json.loads(body)["total"] == 1
    _, body, _ = _get(base + "/api/findings?q=MALLORY")
    assert json.loads(body)["total"] == 1
    _, body, _ = _get(base + "/api/findings?group=account")
    groups = json.loads(body)["groups"]
    assert groups == [
        {
            "key": ACCOUNT,
            "total": 4,
            "failing": 3,
            "top_rank": 4,
            "title": groups[0]["title"],
            "top_severity": "critical",
        }
    ]
    status, body, _ = _get(base + "/api/findings?severity=bogus")
    assert status == 400 and "bogus" in json.loads(body)["error"]
    overview = json.loads(_get(base + "/api/overview")[1])
    assert overview["diff"]["counts"] == {"new": 1, "resolved": 1, "changed": 0}
    assert [p["total"] for p in overview["trend"]] == [2, 2]
    compliance = json.loads(_get(base + "/api/compliance")[1])
    cis = compliance[0]
    assert cis["framework"] == "cis-aws-3.0" and cis["passing"] == 1 and cis["failing"] == 2
    threats = json.loads(_get(base + "/api/threats")[1])
    assert threats[0]["evidence"]["event_ids"] == ["ev-1", HOSTILE]
    openapi = json.loads(_get(base + "/api/openapi.json")[1])
    assert "/api/findings" in openapi["paths"] and "/api/mutes" in openapi["paths"]


def test_overview_scores_and_trends_per_pillar_and_account(server: tuple[str, Path]) -> None:
    base, _ = server
    overview = json.loads(_get(base + "/api/overview")[1])
    pillars = {p["pillar"]: p for p in overview["pillars"]}
    # Now: the public bucket fails and bob's MFA passes; the key fails; the alert fails.
    access = pillars["access-control"]
    assert (access["passing"], access["assessed"], access["score"]) == (1, 2, 0.5)
    assert access["trend"] == [2, 1]  # failing in each assess run, oldest first
    assert pillars["data-encryption"]["score"] == 0.0
    assert pillars["data-encryption"]["trend"] == [0, 1]
    assert pillars["threat-detection"]["trend"] == []  # alerts come from detect runs
    assert pillars["vulnerability"]["score"] is None  # nothing assessed: no score, not 0 %
    (account,) = overview["accounts"]
    assert account["account"] == ACCOUNT
    assert (account["passing"], account["assessed"], account["score"]) == (1, 4, 0.25)
    assert account["trend"] == [2, 2]
    _, page, _ = _get(base + "/")
    assert "50% passing" in page and "not assessed" in page
    row = re.search(r'<tr class="account-row">(.*?)</tr>', page, re.S)
    assert row is not None and "25%" in row.group(1) and "2 → 2" in row.group(1)


def test_mute_appends_a_valid_rule_and_keeps_comments(server: tuple[str, Path]) -> None:
    base, mutelist = server
    expires = (date.today() + timedelta(days=30)).isoformat()
    rule = {
        "check": "kms_key_rotation",
        "resource": "arn:aws:kms:*",
        "owner": "alice",
        "reason": "rotation handled by HSM",
        "expires": expires,
    }
    headers = {"Content-Type": "application/json", "X-CWPP-Request": "1"}
    status, answer = _post(base + "/api/mutes", rule, headers)
    assert status == 201, answer
    text = mutelist.read_text()
    assert text.startswith("# team mutes\n")
    rules = load_mutelist(mutelist).rules
    assert len(rules) == 1 and rules[0].owner == "alice" and str(rules[0].expires) == expires
    # A second rule is appended after the first.
    status, _ = _post(base + "/api/mutes", rule | {"owner": "bob"}, headers)
    assert status == 201 and [r.owner for r in load_mutelist(mutelist).rules] == ["alice", "bob"]


def test_mute_refuses_bad_rules_and_cross_site_posts(server: tuple[str, Path]) -> None:
    base, mutelist = server
    good = {"check": "x", "owner": "alice", "reason": "because"}
    status, _ = _post(base + "/api/mutes", good, {"Content-Type": "application/json"})
    assert status == 403  # no X-CWPP-Request header: a cross-site form cannot add rules
    headers = {"Content-Type": "application/json", "X-CWPP-Request": "1"}
    status, answer = _post(base + "/api/mutes", good | {"reason": "no"}, headers)
    assert status == 422
    status, answer = _post(base + "/api/mutes", good | {"expires": "2000-01-01"}, headers)
    assert status == 400 and "past" in answer["error"]
    assert yaml.safe_load(mutelist.read_text()) == {"mutes": []}


def test_foreign_host_header_is_refused_on_loopback(server: tuple[str, Path]) -> None:
    base, _ = server
    status, _, _ = _get(base + "/api/overview", {"Host": "evil.example"})
    assert status == 403


def test_token_is_required_on_every_request(seeded_url: str) -> None:
    token = "t" * 24
    with running(WebConfig(seeded_url, None, token, loopback_only=False)) as base:
        assert _get(base + "/api/overview")[0] == 401
        assert _get(base + "/static/app.js")[0] == 401
        assert _get(base + "/api/overview", {"Authorization": "Bearer wrong"})[0] == 401
        assert _get(base + "/api/overview", {"Authorization": f"Bearer {token}"})[0] == 200
        assert _get(base + "/", {"Cookie": f"cwpp_token={token}"})[0] == 200
        assert _get(base + "/login?token=nope")[0] == 401


def test_binding_beyond_loopback_needs_a_token() -> None:
    with pytest.raises(UsageError, match="--token"):
        check_binding("0.0.0.0", None)
    with pytest.raises(UsageError, match="16"):
        check_binding("0.0.0.0", "short")
    check_binding("127.0.0.1", None)
    check_binding("0.0.0.0", "x" * 16)
