import csv
import html
import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from opencwpp.core.errors import UsageError
from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.report import ReportData
from opencwpp.report.formats import Format, format_names, get_format, registry
from opencwpp.report.formats import csv as csv_format
from opencwpp.report.formats import html as html_format
from opencwpp.report.formats import json as json_format

XSS_NAME = "<script>alert(1)</script>"
XSS_TAG = '"><img src=x onerror=alert(1)>'
FORMULA_NAME = '=HYPERLINK("http://x")'
T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def _finding(
    check_id: str,
    uid: str,
    *,
    name: str = "",
    severity: Severity = Severity.HIGH,
    status: Status = Status.FAIL,
    pillar: Pillar = Pillar.ACCESS,
    tags: dict[str, str] | None = None,
    reason: str = "",
) -> Finding:
    return Finding(
        check_id=check_id,
        title=f"Title of {check_id}",
        pillar=pillar,
        severity=severity,
        status=status,
        resource=ResourceRef(
            uid=uid,
            type="aws_s3_buckets",
            account_id="000000000000",
            region="eu-west-1",
            name=name,
            tags=tags or {},
        ),
        status_reason=reason,
        evidence={"acl": "public-read", "grants": 2},
        remediation="Block public access.",
        compliance={"cis-aws-3.0": ["2.1.4"], "nist-800-53": ["AC-3", "AC-6"]},
        mitre_attack=("T1530",),
        first_seen=T0,
        last_seen=datetime(2025, 1, 3, 3, 4, 5, tzinfo=UTC),
    )


@pytest.fixture
def findings() -> list[Finding]:
    return [
        _finding(
            "s3_bucket_public_acl",
            "arn:aws:s3:::evil<script>",
            name=XSS_NAME,
            severity=Severity.CRITICAL,
            tags={"owner": XSS_TAG},
            reason="ACL grants READ to AllUsers <b>",
        ),
        _finding("s3_bucket_public_acl", "arn:aws:s3:::formula", name=FORMULA_NAME),
        _finding("s3_bucket_public_acl", "arn:aws:s3:::ok", name="ok", status=Status.PASS),
        _finding(
            "kms_key_rotation",
            "arn:aws:kms:eu-west-1:000000000000:key/1",
            name="@SUM(1+1)",
            severity=Severity.MEDIUM,
            pillar=Pillar.ENCRYPTION,
            tags={"cost": "-10", "env": "+prod"},
        ),
        _finding(
            "ec2_imdsv1",
            "i-0abc",
            name="web",
            severity=Severity.LOW,
            pillar=Pillar.VULNERABILITY,
            status=Status.NOT_ASSESSED,
            reason="AccessDenied",
        ),
    ]


@pytest.fixture
def data(findings: list[Finding]) -> ReportData:
    return ReportData(
        findings=findings,
        generated_at=T0,
        lake_url="duckdb:///tmp/lake.duckdb",
        run_id="run-1",
        lifecycle={findings[0].id: "NEW", findings[1].id: "OPEN"},
    )


# --- registry ---


def test_registry_lists_builtin_formats() -> None:
    assert {"json", "csv", "html"} <= set(format_names())
    for name in format_names():
        fmt = get_format(name)
        assert isinstance(fmt, Format)
        assert fmt.name == name
        assert fmt.extension and "/" in fmt.media_type


def test_unknown_format_is_a_usage_error_naming_the_valid_ones() -> None:
    with pytest.raises(UsageError) as err:
        get_format("pdf")
    message = str(err.value)
    assert "pdf" in message
    for name in ("json", "csv", "html"):
        assert name in message


@pytest.mark.parametrize("name", format_names())
def test_conformance_every_registered_format_renders(name: str, data: ReportData) -> None:
    """Walks the whole registry: a new format module is covered without touching this test."""
    fmt = get_format(name)
    assert fmt.extension and not fmt.extension.startswith(".")
    assert "/" in fmt.media_type
    empty = ReportData(findings=[], generated_at=T0, lake_url="duckdb:///x", run_id=None)
    assert isinstance(fmt.render(empty), str)
    assert fmt.render(data).strip()


def test_registry_is_built_once() -> None:
    assert registry() is registry()


# --- JSON ---


def test_json_round_trips_every_finding(data: ReportData, findings: list[Finding]) -> None:
    text = get_format("json").render(data)
    doc = json.loads(text)
    assert doc["generated_at"] == "2025-01-02T03:04:05Z"
    assert doc["lake"] == data.lake_url
    assert doc["run_id"] == "run-1"
    assert len(doc["findings"]) == len(findings)
    assert sorted(json_format.load_findings(text), key=lambda f: f.id) == sorted(
        findings, key=lambda f: f.id
    )


def test_json_fields_and_values(data: ReportData, findings: list[Finding]) -> None:
    doc = json.loads(get_format("json").render(data))
    first = doc["findings"][0]
    assert first["id"] == findings[0].id
    assert first["severity"] == "critical" and first["severity_id"] == 5
    assert first["pillar"] == "access-control" and first["status"] == "FAIL"
    assert first["resource"]["name"] == XSS_NAME
    assert first["resource"]["tags"] == {"owner": XSS_TAG}
    assert first["last_seen"] == "2025-01-03T03:04:05Z"
    assert first["lifecycle"] == "NEW"
    assert first["mitre_attack"] == ["T1530"]
    assert doc["findings"][-1]["lifecycle"] is None


def test_json_order_is_severity_desc_then_check_then_uid(data: ReportData) -> None:
    doc = json.loads(get_format("json").render(data))
    keys = [
        (-Severity(f["severity"]).rank, f["check_id"], f["resource"]["uid"])
        for f in doc["findings"]
    ]
    assert keys == sorted(keys)


def test_json_summary_counts(data: ReportData) -> None:
    summary = json.loads(get_format("json").render(data))["summary"]
    assert summary["total"] == 5
    assert summary["by_status"] == {"FAIL": 3, "PASS": 1, "MUTED": 0, "NOT_ASSESSED": 1}
    assert summary["failing_by_severity"]["critical"] == 1
    assert summary["failing_by_severity"]["high"] == 1
    assert summary["failing_matrix"]["data-encryption"]["medium"] == 1
    assert summary["lifecycle"] == {"NEW": 1, "OPEN": 1, "RESOLVED": 0}
    assert summary["top_failing_checks"][0] == {
        "check_id": "s3_bucket_public_acl",
        "title": "Title of s3_bucket_public_acl",
        "severity": "critical",
        "count": 2,
    }


def test_json_encodes_lake_types_in_evidence() -> None:
    evidence = {"when": T0, "n": Decimal("1.5"), "ids": {"b", "a"}, "raw": b"\x00"}
    odd = replace(_finding("c", "u"), evidence=evidence)
    doc = json.loads(json_format.render(ReportData([odd], T0, "duckdb:///x")))
    assert doc["findings"][0]["evidence"] == {
        "when": "2025-01-02T03:04:05Z",
        "n": "1.5",
        "ids": ["a", "b"],
        "raw": "AA==",
    }


def test_json_takes_naive_timestamps_as_utc() -> None:
    naive = replace(_finding("c", "u"), first_seen=datetime(2025, 1, 3, 3, 4, 5))
    doc = json.loads(json_format.render(ReportData([naive], T0, "duckdb:///x")))
    assert doc["findings"][0]["first_seen"] == "2025-01-03T03:04:05Z"
    loaded = json_format.load_findings(json_format.render(ReportData([naive], T0, "x")))
    assert loaded[0].first_seen == datetime(2025, 1, 3, 3, 4, 5, tzinfo=UTC)


# --- CSV ---


def test_csv_parses_with_header_and_one_row_per_finding(data: ReportData) -> None:
    rows = list(csv.reader(io.StringIO(get_format("csv").render(data))))
    assert tuple(rows[0]) == csv_format.HEADER
    assert len(rows) == 1 + len(data.findings)
    assert all(len(r) == len(csv_format.HEADER) for r in rows)


def test_csv_neutralises_formula_injection(data: ReportData) -> None:
    rows = list(csv.DictReader(io.StringIO(get_format("csv").render(data))))
    names = {r["resource_name"] for r in rows}
    assert "'" + FORMULA_NAME in names
    assert "'@SUM(1+1)" in names
    assert XSS_NAME in names  # not a formula: kept as is
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\uff1dx", "'\uff1dx"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_neutralise(cell: str, expected: str) -> None:
    assert csv_format.neutralise(cell) == expected


# --- HTML ---


def _visible(page: str) -> str:
    """The page without its own stylesheet, table data and script (checked separately)."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r'<script type="application/json" id="findings-data">[^<]*</script>', "", page)
    return page.replace(f"<script>{html_format._script()}</script>", "")


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", page)


def test_html_escapes_untrusted_data(data: ReportData) -> None:
    page = get_format("html").render(data)
    body = _visible(page)
    assert "<script" not in body.lower()
    assert "<img" not in body.lower()
    assert "onerror=alert(1)>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    # The table data is JSON with <, > and & escaped: it cannot close its script element.
    block = re.search(r'id="findings-data">([^<]*)</script>', page)
    assert block is not None
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in block.group(1)
    assert _scripts(page) == ['<script type="application/json" id="findings-data">', "<script>"]


def test_html_has_a_strict_csp_and_loads_nothing_remote(data: ReportData) -> None:
    page = get_format("html").render(data)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp is not None
    policy = html.unescape(csp.group(1))
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    script_src = re.search(r"script-src ([^;]+);", policy)
    assert script_src is not None and script_src.group(1).startswith("'sha256-")
    assert "sha256-" in policy
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "@import" not in page and "url(" not in page
    assert " style=" not in page  # inline style attributes would need 'unsafe-inline'


def test_html_csp_hash_matches_the_stylesheet(data: ReportData) -> None:
    page = get_format("html").render(data)
    css = re.search(r"<style>(.*?)</style>", page, flags=re.S)
    assert css is not None
    script = re.search(r"<script>(.*?)</script>", page, flags=re.S)
    assert script is not None
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    assert html.unescape(policy.group(1)) == html_format.content_security_policy(
        css.group(1), script.group(1)
    )


def test_html_shows_every_resource_uid(data: ReportData, findings: list[Finding]) -> None:
    page = get_format("html").render(data)
    for f in findings:
        assert html.escape(f.resource.uid) in page


def test_html_counts_match_the_summary(data: ReportData) -> None:
    page = get_format("html").render(data)
    kpis = dict(
        re.findall(r'<div class="label">(\w+)</div><div class="value[^"]*">(\d+)</div>', page)
    )
    assert kpis == {
        "Failing": "3",
        "critical": "1",
        "high": "1",
        "medium": "1",
        "low": "0",
        "informational": "0",
    }
    assert "NEW" in page and "OPEN" in page  # lifecycle badges
    assert "cis-aws-3.0 2.1.4" in page
    assert "<details" in page
    assert "<script" not in _visible(page)
