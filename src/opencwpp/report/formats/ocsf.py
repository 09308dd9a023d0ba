"""OCSF 1.1 findings: one event per finding, its class chosen by the finding's pillar.

Vulnerability findings become Vulnerability Finding (2002), threat detections Detection Finding
(2004), posture checks (access control, data encryption) Compliance Finding (2003). The output
is a JSON array of events, as OCSF-native data lakes (Security Lake, …) ingest them. A Detection
Finding names its CloudTrail events in `finding_info.related_events` and describes the stored ones
as `evidences` (actor, API call, source endpoint, event id and time).
"""

from __future__ import annotations

import ipaddress
import json
from datetime import datetime
from typing import Any

from opencwpp.core.models import Finding, Pillar, Status
from opencwpp.report.formats import Format
from opencwpp.report.formats._shared import (
    TOOL_NAME,
    cloud_provider,
    epoch_ms,
    seen_at,
    tool_version,
)
from opencwpp.report.formats.json import _default as json_default
from opencwpp.report.model import AlertEvent, ReportData, alert_event_ids, iso_utc, sort_findings

OCSF_VERSION = "1.1.0"
CATEGORY_UID, CATEGORY_NAME = 2, "Findings"
ACTIVITY_CREATE = 1
CLASSES = {
    Pillar.VULNERABILITY: (2002, "Vulnerability Finding"),
    Pillar.THREAT: (2004, "Detection Finding"),
    Pillar.ACCESS: (2003, "Compliance Finding"),
    Pillar.ENCRYPTION: (2003, "Compliance Finding"),
}
# Finding status_id: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved.
_FINDING_STATUS = {
    Status.FAIL: (1, "New"),
    Status.MUTED: (3, "Suppressed"),
    Status.PASS: (4, "Resolved"),
    Status.NOT_ASSESSED: (99, "Other"),
}
# Compliance status_id: 1 Pass, 2 Warning, 3 Fail, 99 Other.
_COMPLIANCE_STATUS = {
    Status.FAIL: (3, "Fail"),
    Status.PASS: (1, "Pass"),
    Status.MUTED: (2, "Warning"),
    Status.NOT_ASSESSED: (99, "Other"),
}


def _resource(finding: Finding) -> dict[str, Any]:
    res = finding.resource
    out: dict[str, Any] = {"uid": res.uid, "type": res.type}
    if res.name:
        out["name"] = res.name
    if res.region:
        out["region"] = res.region
    if res.tags:
        out["labels"] = [f"{k}={v}" for k, v in sorted(res.tags.items())]
    return out


def _vulnerabilities(finding: Finding) -> list[dict[str, Any]]:
    vuln = finding.evidence.get("vulnerability") or {}
    pkg = finding.evidence.get("package") or {}
    item: dict[str, Any] = {
        "title": finding.title,
        "desc": str(vuln.get("summary") or finding.status_reason),
        "severity": finding.severity.value.capitalize(),
        "fix_available": bool(finding.evidence.get("fixed_versions")),
    }
    cves = [c for c in vuln.get("related") or [] if str(c).startswith("CVE-")]
    item["cve"] = {"uid": cves[0] if cves else str(vuln.get("id") or finding.check_id)}
    if pkg.get("name"):
        package = {"name": str(pkg["name"]), "version": str(pkg.get("version") or "")}
        if pkg.get("purl"):
            package["purl"] = str(pkg["purl"])
        item["affected_packages"] = [package]
    if finding.remediation:
        item["remediation"] = {"desc": finding.remediation}
    return [item]


def _endpoint(source: str) -> dict[str, str]:
    """CloudTrail's sourceIPAddress: an IP, or the AWS service that called (a host name)."""
    try:
        return {"ip": str(ipaddress.ip_address(source))}
    except ValueError:
        return {"hostname": source}


def _evidence(event: AlertEvent) -> dict[str, Any]:
    """One OCSF Evidence Artifacts object for a CloudTrail event behind a detection."""
    evidence: dict[str, Any] = {
        "data": {"event_uid": event.event_id, "event_time": iso_utc(event.event_time)},
    }
    if event.principal:
        evidence["actor"] = {"user": {"uid": event.principal}}
    if event.event_name:
        api: dict[str, Any] = {"operation": event.event_name}
        if event.event_source:
            api["service"] = {"name": event.event_source}
        if event.error_code:
            api["response"] = {"error": event.error_code}
        evidence["api"] = api
    if event.source_ip:
        evidence["src_endpoint"] = _endpoint(event.source_ip)
    if event.region:
        evidence["data"]["region"] = event.region
    return evidence


def ocsf_event(
    finding: Finding,
    generated_at: datetime,
    run_id: str | None,
    events: list[AlertEvent] | None = None,
) -> dict[str, Any]:
    """One OCSF event for `finding`, of the class its pillar maps to.

    `events` (a detection's stored CloudTrail events) become the Detection Finding's evidences.
    """
    class_uid, class_name = CLASSES[finding.pillar]
    status_id, status = _FINDING_STATUS[finding.status]
    info: dict[str, Any] = {
        "uid": finding.id,
        "title": finding.title,
        "desc": finding.status_reason,
        "types": [finding.pillar.value],
        "analytic": {"uid": finding.check_id, "name": finding.check_id, "type_id": 1},
    }
    if finding.first_seen:
        info["first_seen_time"] = epoch_ms(finding.first_seen)
    if finding.last_seen:
        info["last_seen_time"] = epoch_ms(finding.last_seen)
    event: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": CATEGORY_NAME,
        "class_uid": class_uid,
        "class_name": class_name,
        "type_uid": class_uid * 100 + ACTIVITY_CREATE,
        "type_name": f"{class_name}: Create",
        "severity_id": finding.severity.ocsf_id,
        "severity": finding.severity.value.capitalize(),
        "status_id": status_id,
        "status": status,
        "status_detail": finding.status_reason,
        "time": epoch_ms(seen_at(finding, generated_at)),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": finding.id,
            "product": {"name": TOOL_NAME, "vendor_name": TOOL_NAME, "version": tool_version()},
        },
        "finding_info": info,
        "resources": [_resource(finding)],
        "cloud": {"provider": cloud_provider(finding.resource.uid)},
        "unmapped": {"evidence": finding.evidence},
    }
    if run_id:
        event["metadata"]["correlation_uid"] = run_id
    if finding.resource.account_id:
        event["cloud"]["account"] = {"uid": finding.resource.account_id}
    if finding.resource.region:
        event["cloud"]["region"] = finding.resource.region
    if finding.remediation:
        event["remediation"] = {"desc": finding.remediation}
    if finding.mitre_attack:
        event["attacks"] = [{"technique": {"uid": t}} for t in finding.mitre_attack]
    if class_uid == 2003:
        cstatus_id, cstatus = _COMPLIANCE_STATUS[finding.status]
        event["compliance"] = {
            "control": finding.check_id,
            "standards": sorted(finding.compliance) or ["opencwpp"],
            "requirements": sorted(
                f"{fw} {r}" for fw, reqs in finding.compliance.items() for r in reqs
            ),
            "status_id": cstatus_id,
            "status": cstatus,
        }
    elif class_uid == 2002:
        event["vulnerabilities"] = _vulnerabilities(finding)
    elif class_uid == 2004:
        ids = alert_event_ids(finding.evidence)
        if ids:
            info["related_events"] = [{"uid": i} for i in ids]
        if events:
            event["evidences"] = [_evidence(e) for e in events]
    return event


def render(data: ReportData) -> str:
    """Renders a JSON array of OCSF events in the stable report order."""
    events = [
        ocsf_event(f, data.generated_at, data.run_id, data.alert_events.get(f.id))
        for f in sort_findings(data.findings)
    ]
    return json.dumps(events, indent=2, ensure_ascii=False, default=json_default) + "\n"


FORMAT = Format(name="ocsf", extension="ocsf.json", media_type="application/json", render=render)
