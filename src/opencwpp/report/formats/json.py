"""JSON report: run facts, a summary and every finding field, in a stable order.

The document is meant for pipelines and for `load_findings`, which reads it back into findings.
A threat-detection alert also carries `events`: the stored CloudTrail events behind it (id, time,
API call, principal, source), so a reader need not query the lake to see what happened.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.report.formats import Format
from opencwpp.report.model import (
    AlertEvent,
    ReportData,
    alert_event_dict,
    failing_by_pillar,
    failing_by_severity,
    iso_utc,
    lifecycle_counts,
    severity_matrix,
    sort_findings,
    status_counts,
    top_failing_checks,
)

SCHEMA_VERSION = 1


def _default(value: object) -> Any:
    """Encodes the non-JSON types evidence may carry (lake rows hold timestamps and decimals)."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} in a JSON report")


def finding_to_dict(
    finding: Finding, lifecycle: str | None = None, events: list[AlertEvent] | None = None
) -> dict[str, Any]:
    """Every field of a finding as JSON values: enums by value, timestamps ISO 8601 UTC.

    `events` (an alert's stored events) adds an `events` list; other findings have no such key.
    """
    res = finding.resource
    out: dict[str, Any] = {
        "id": finding.id,
        "check_id": finding.check_id,
        "title": finding.title,
        "pillar": finding.pillar.value,
        "severity": finding.severity.value,
        "severity_id": finding.severity.ocsf_id,
        "status": finding.status.value,
        "status_reason": finding.status_reason,
        "resource": {
            "uid": res.uid,
            "type": res.type,
            "account_id": res.account_id,
            "region": res.region,
            "name": res.name,
            "tags": dict(sorted(res.tags.items())),
        },
        "evidence": finding.evidence,
        "remediation": finding.remediation,
        "compliance": {k: list(v) for k, v in sorted(finding.compliance.items())},
        "mitre_attack": list(finding.mitre_attack),
        "first_seen": iso_utc(finding.first_seen),
        "last_seen": iso_utc(finding.last_seen),
        "lifecycle": lifecycle,
    }
    if events is not None:
        out["events"] = [alert_event_dict(e) for e in events]
    return out


def summary(data: ReportData) -> dict[str, Any]:
    """The summary block: counts per status, failing counts per severity and pillar, top checks."""
    return {
        "total": len(data.findings),
        "by_status": {s.value: n for s, n in status_counts(data.findings).items()},
        "failing_by_severity": {s.value: n for s, n in failing_by_severity(data.findings).items()},
        "failing_by_pillar": {p.value: n for p, n in failing_by_pillar(data.findings).items()},
        "failing_matrix": {
            p.value: {s.value: n for s, n in row.items()}
            for p, row in severity_matrix(data.findings).items()
        },
        "lifecycle": lifecycle_counts(data),
        "top_failing_checks": [
            {
                "check_id": c.check_id,
                "title": c.title,
                "severity": c.severity.value,
                "count": c.count,
            }
            for c in top_failing_checks(data.findings)
        ],
    }


def render(data: ReportData) -> str:
    """Renders the JSON document (UTF-8 text, two-space indent, trailing newline)."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso_utc(data.generated_at),
        "lake": data.lake_url,
        "run_id": data.run_id,
        "summary": summary(data),
        "findings": [
            finding_to_dict(f, data.lifecycle.get(f.id), data.alert_events.get(f.id))
            for f in sort_findings(data.findings)
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, default=_default) + "\n"


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def finding_from_dict(raw: dict[str, Any]) -> Finding:
    """Rebuilds a finding from `finding_to_dict` output (evidence keeps its JSON types)."""
    res = raw["resource"]
    return Finding(
        check_id=raw["check_id"],
        title=raw["title"],
        pillar=Pillar(raw["pillar"]),
        severity=Severity(raw["severity"]),
        status=Status(raw["status"]),
        resource=ResourceRef(
            uid=res["uid"],
            type=res["type"],
            account_id=res["account_id"],
            region=res["region"],
            name=res["name"],
            tags=dict(res["tags"]),
        ),
        status_reason=raw["status_reason"],
        evidence=dict(raw["evidence"]),
        remediation=raw["remediation"],
        compliance={k: list(v) for k, v in raw["compliance"].items()},
        mitre_attack=tuple(raw["mitre_attack"]),
        first_seen=_time(raw["first_seen"]),
        last_seen=_time(raw["last_seen"]),
    )


def load_findings(text: str) -> list[Finding]:
    """Reads the findings back from a JSON report."""
    doc = json.loads(text)
    return [finding_from_dict(raw) for raw in doc["findings"]]


FORMAT = Format(name="json", extension="json", media_type="application/json", render=render)
