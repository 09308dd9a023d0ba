"""SARIF 2.1.0: failing and muted findings as results, one rule per check.

Cloud resources have no file location, so each result names its resource as a logical location
(fully qualified name = the resource uid). Muted findings carry an external suppression with the
mute rule's justification, so code-scanning dashboards show them as dismissed, not open.
`security-severity` follows GitHub's convention (a CVSS-like number) so alerts sort by severity.
A threat-detection alert lists its stored CloudTrail events in the result's `properties.events`.
"""

from __future__ import annotations

import json
from typing import Any

from opencwpp.core.models import Finding, Severity, Status
from opencwpp.report import text
from opencwpp.report.formats import Format
from opencwpp.report.formats._shared import TOOL_NAME, TOOL_URI, frameworks, tool_version
from opencwpp.report.model import (
    PILLAR_LABELS,
    AlertEvent,
    ReportData,
    alert_event_dict,
    group_by_check,
    iso_utc,
    sort_findings,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFORMATIONAL: "note",
}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFORMATIONAL: "0.0",
}
REPORTED = (Status.FAIL, Status.MUTED)


def _rule(check_id: str, title: str, finding: Finding) -> dict[str, Any]:
    tags = ["security", PILLAR_LABELS[finding.pillar], *finding.mitre_attack]
    rule: dict[str, Any] = {
        "id": check_id,
        "name": check_id,
        "shortDescription": {"text": text.clean(title) or check_id},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {
            "tags": tags,
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "pillar": finding.pillar.value,
            "compliance": frameworks(finding),
        },
    }
    if finding.remediation:
        rule["help"] = {"text": text.clean(finding.remediation)}
    return rule


def _result(
    finding: Finding, rule_index: int, events: list[AlertEvent] | None = None
) -> dict[str, Any]:
    res = finding.resource
    message = finding.status_reason or finding.title
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "kind": "fail",
        "message": {"text": text.clean(message) or finding.check_id},
        "locations": [
            {
                "logicalLocations": [
                    {
                        "name": text.clean(res.name or res.uid),
                        "fullyQualifiedName": text.clean(res.uid),
                        "kind": "resource",
                    }
                ]
            }
        ],
        "partialFingerprints": {"opencwppFindingId/v1": finding.id},
        "properties": {
            "severity": finding.severity.value,
            "resourceType": res.type,
            "accountId": res.account_id,
            "region": res.region,
            "resourceTags": dict(sorted(res.tags.items())),
        },
    }
    if events is not None:
        result["properties"]["events"] = [alert_event_dict(e) for e in events]
    if finding.status is Status.MUTED:
        result["suppressions"] = [
            {"kind": "external", "justification": text.clean(finding.status_reason)}
        ]
    return result


def sarif_log(data: ReportData) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict: one run, rules for every check in the report."""
    groups = group_by_check(data.findings)
    groups.sort(key=lambda g: g.check_id)
    index = {g.check_id: i for i, g in enumerate(groups)}
    rules = [_rule(g.check_id, g.title, g.findings[0]) for g in groups]
    results = [
        _result(f, index[f.check_id], data.alert_events.get(f.id))
        for f in sort_findings(data.findings)
        if f.status in REPORTED
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "informationUri": TOOL_URI,
                "version": tool_version(),
                "rules": rules,
            }
        },
        "invocations": [{"executionSuccessful": True, "endTimeUtc": iso_utc(data.generated_at)}],
        "results": results,
    }
    if data.run_id:
        run["automationDetails"] = {"id": f"opencwpp/{data.run_id}"}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(data: ReportData) -> str:
    """Renders the SARIF log (two-space indent, trailing newline)."""
    return json.dumps(sarif_log(data), indent=2, ensure_ascii=False) + "\n"


FORMAT = Format(name="sarif", extension="sarif", media_type="application/sarif+json", render=render)
