"""Threat-detection alerts in the exports carry the CloudTrail events behind them, on both backends.

The alert comes from the real pipeline: CloudTrail records ingested into `aws_cloudtrail_events`,
one Sigma rule run by `detect`, then `cwpp report` reads the findings and their events back.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opencwpp.cli import report_commands
from opencwpp.detect.engine import detect
from opencwpp.detect.ingest import ingest, list_sources
from opencwpp.detect.pack import load_pack
from opencwpp.lake import Lake

runner = CliRunner()
HOSTILE = "<img src=x onerror=alert(1)>"
ACCOUNT = "111111111111"
MALLORY = f"arn:aws:iam::{ACCOUNT}:user/mallory{HOSTILE}"
ZOE = f"arn:aws:iam::{ACCOUNT}:user/zoe"
RULE = """\
title: CloudTrail logging stopped (test)
id: 5a1b2c3d-0000-4000-8000-000000000001
status: test
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: cloudtrail.amazonaws.com
    eventName: StopLogging
  condition: selection
level: high
tags:
  - attack.defense-evasion
  - attack.t1562.008
"""


def _event(event_id: str, name: str, arn: str, when: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventVersion": "1.09",
        "eventID": event_id,
        "eventTime": when,
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": f"aws-cli/2.15.0 {HOSTILE}",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": arn,
            "accountId": ACCOUNT,
            "userName": arn.rsplit("/", 1)[-1],
        },
        "recipientAccountId": ACCOUNT,
        "eventType": "AwsApiCall",
        "eventCategory": "Management",
        "managementEvent": True,
        "readOnly": False,
    } | extra


def seed_alerts(lake: Lake, folder: Path) -> None:
    """Two StopLogging calls by a hostile-named user (one denied, made through an AWS service),
    and near misses that must not be listed with them: the same user's StartLogging, and
    zoe's later StopLogging (her own alert: one alert per identity)."""
    records = [
        _event("ev-stop-1", "StopLogging", MALLORY, "2025-03-01T12:00:00Z"),
        _event(
            "ev-stop-2",
            "StopLogging",
            MALLORY,
            "2025-03-01T12:05:00Z",
            errorCode="AccessDenied",
            sourceIPAddress="ssm.amazonaws.com",
        ),
        _event("ev-start-1", "StartLogging", MALLORY, "2025-03-01T12:10:00Z"),
        _event("ev-zoe-1", "StopLogging", ZOE, "2025-03-02T08:00:00Z"),
    ]
    trail = folder / "trail.json"
    trail.write_text(json.dumps({"Records": records}))
    report = ingest(lake, list_sources([str(trail)]))
    assert report.inserted == 4, report.files
    rule = folder / "rule.yml"
    rule.write_text(RULE)
    ruleset = load_pack([rule], builtin=False)
    assert not ruleset.problems
    result = detect(lake, ruleset.rules)
    assert len(result.findings) == 2  # one alert per identity


@pytest.fixture
def alerts_url(lake_url: str, tmp_path: Path) -> str:
    with Lake.open(lake_url) as lake:
        seed_alerts(lake, tmp_path)
    return lake_url


def _report(url: str, fmt: str, out: Path, *extra: str) -> str:
    result = runner.invoke(
        report_commands.app, ["report", "-f", fmt, "-o", str(out), "--lake", url, *extra]
    )
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def _by_principal(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["resource"]["uid"]: f for f in findings if f["pillar"] == "threat-detection"}


def test_json_alert_lists_its_events_with_time_name_and_principal(
    alerts_url: str, tmp_path: Path
) -> None:
    doc = json.loads(_report(alerts_url, "json", tmp_path / "r.json"))
    alerts = _by_principal(doc["findings"])
    assert set(alerts) == {MALLORY, ZOE}
    events = alerts[MALLORY]["events"]
    assert [e["eventID"] for e in events] == ["ev-stop-1", "ev-stop-2"]  # not StartLogging
    first, second = events
    assert first["eventTime"] == "2025-03-01T12:00:00Z"
    assert first["eventName"] == "StopLogging"
    assert first["eventSource"] == "cloudtrail.amazonaws.com"
    assert first["principal"] == MALLORY  # hostile text kept as data, byte for byte
    assert first["sourceIPAddress"] == "203.0.113.7" and first["errorCode"] is None
    assert second["errorCode"] == "AccessDenied"
    assert second["sourceIPAddress"] == "ssm.amazonaws.com"
    assert [e["eventID"] for e in alerts[ZOE]["events"]] == ["ev-zoe-1"]


def test_json_filters_keep_the_events_of_the_alerts_they_keep(
    alerts_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    doc = json.loads(_report(alerts_url, "json", out, "--pillar", "threat-detection"))
    assert {f["check_id"] for f in doc["findings"]} == {
        "sigma:5a1b2c3d-0000-4000-8000-000000000001"
    }
    assert all(f["events"] for f in doc["findings"])
    doc = json.loads(_report(alerts_url, "json", out, "--account", "999999999999"))
    assert doc["findings"] == []


def test_ocsf_detection_finding_names_and_describes_its_events(
    alerts_url: str, tmp_path: Path
) -> None:
    from tests.unit.test_report_exports import validate_ocsf

    events = json.loads(_report(alerts_url, "ocsf", tmp_path / "r.ocsf.json"))
    validate_ocsf(events)
    detection = next(
        e for e in events if e["class_uid"] == 2004 and e["resources"][0]["uid"] == MALLORY
    )
    assert detection["finding_info"]["related_events"] == [
        {"uid": "ev-stop-1"},
        {"uid": "ev-stop-2"},
    ]
    first, second = detection["evidences"]
    assert first["api"] == {
        "operation": "StopLogging",
        "service": {"name": "cloudtrail.amazonaws.com"},
    }
    assert first["actor"] == {"user": {"uid": MALLORY}}
    assert first["src_endpoint"] == {"ip": "203.0.113.7"}
    assert first["data"]["event_uid"] == "ev-stop-1"
    assert first["data"]["event_time"] == "2025-03-01T12:00:00Z"
    assert second["src_endpoint"] == {"hostname": "ssm.amazonaws.com"}
    assert second["api"]["response"] == {"error": "AccessDenied"}


def test_csv_and_sarif_carry_the_events(alerts_url: str, tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(_report(alerts_url, "csv", tmp_path / "r.csv"))))
    by_uid = {r["resource_uid"]: r for r in rows}
    events = json.loads(by_uid[MALLORY]["events"])
    assert [(e["eventID"], e["eventName"]) for e in events] == [
        ("ev-stop-1", "StopLogging"),
        ("ev-stop-2", "StopLogging"),
    ]
    sarif = json.loads(_report(alerts_url, "sarif", tmp_path / "r.sarif"))
    results = sarif["runs"][0]["results"]
    mallory = next(
        r
        for r in results
        if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == MALLORY
    )
    assert [e["eventID"] for e in mallory["properties"]["events"]] == ["ev-stop-1", "ev-stop-2"]


def test_alert_whose_events_are_gone_has_an_empty_list(alerts_url: str, tmp_path: Path) -> None:
    with Lake.open(alerts_url) as lake:
        lake.execute("DELETE FROM aws_cloudtrail_events WHERE event_id = ?", ["ev-stop-1"])
    doc = json.loads(_report(alerts_url, "json", tmp_path / "r.json"))
    alerts = _by_principal(doc["findings"])
    assert [e["eventID"] for e in alerts[MALLORY]["events"]] == ["ev-stop-2"]
    assert alerts[MALLORY]["evidence"]["event_ids"] == ["ev-stop-1", "ev-stop-2"]
    with Lake.open(alerts_url) as lake:
        lake.execute("DROP TABLE aws_cloudtrail_events")
    doc = json.loads(_report(alerts_url, "json", tmp_path / "r.json"))
    assert [f["events"] for f in doc["findings"]] == [[], []]  # looked up, none stored
