"""Runs the Azure detections and keeps their alerts as threat-detection findings.

One finding per (detection, caller), as for CloudTrail: the record count, first and last time
and the first record ids are evidence; a later run over the same records that no longer flags a
caller resolves its finding through the findings history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.detect.azure.inventory import known_role_assignments
from opencwpp.detect.azure.rules import DETECTIONS, EVENTS, WHO, AzureDetection
from opencwpp.detect.sigma.correlation_alerts import SEVERITY
from opencwpp.detect.sigma.rules import triage
from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.lake import Lake

MAX_EVIDENCE = 20
IDENTITY_TYPE = "AzureIdentity"


@dataclass
class AzureDetectResult:
    """What one run produced."""

    run_id: str
    findings: list[Finding] = field(default_factory=list)
    matched: int = 0
    lifecycle: dict[str, int] = field(default_factory=dict)


def _matches(lake: Lake, detection: AzureDetection, since: datetime | None) -> list[dict[str, Any]]:
    where = f"record_id IN (SELECT record_id FROM ({detection.sql}) AS flagged)"
    if since is not None:
        where += f" AND event_time >= CAST('{since:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP)"
    return lake.query(
        f"SELECT record_id, {WHO} AS who, subscription_id, event_time, operation_name, "
        f"resource_id FROM {EVENTS} WHERE {where} ORDER BY who, event_time, record_id"
    )


def _finding(detection: AzureDetection, who: str, rows: list[dict[str, Any]]) -> Finding:
    first, last = rows[0]["event_time"], rows[-1]["event_time"]
    operations = sorted({str(r["operation_name"]) for r in rows})
    evidence = {
        "rule_id": detection.id,
        "rule_title": detection.title,
        "rule_author": "opencwpp",
        "rule_level": detection.level,
        "rule_tags": list(detection.tags),
        "rule_falsepositives": list(detection.falsepositives),
        "event_count": len(rows),
        "record_ids": [str(r["record_id"]) for r in rows[:MAX_EVIDENCE]],
        "record_ids_truncated": len(rows) > MAX_EVIDENCE,
        "operations": operations,
        "resources": sorted({str(r["resource_id"]) for r in rows if r["resource_id"]})[
            :MAX_EVIDENCE
        ],
        "first_event_time": first.isoformat() if first else None,
        "last_event_time": last.isoformat() if last else None,
    }
    return Finding(
        check_id=detection.check_id,
        title=detection.title,
        pillar=Pillar.THREAT,
        severity=SEVERITY.get(detection.level, Severity.MEDIUM),
        status=Status.FAIL,
        resource=ResourceRef(
            uid=who, type=IDENTITY_TYPE, account_id=str(rows[0]["subscription_id"] or "")
        ),
        status_reason=f"{len(rows)} matching Activity Log record(s) by {who}",
        evidence=evidence,
        remediation=triage(detection.falsepositives),
        mitre_attack=detection.mitre_attack,
        first_seen=first,
        last_seen=last,
    )


def evaluate(
    lake: Lake, detections: Iterable[AzureDetection] = DETECTIONS, since: datetime | None = None
) -> tuple[list[Finding], int]:
    """The alerts of the detections over the stored records, and how many records matched."""
    findings: list[Finding] = []
    matched = 0
    if not lake.table_exists(EVENTS):
        return findings, matched
    with known_role_assignments(lake):
        for detection in detections:
            by_who: dict[str, list[dict[str, Any]]] = {}
            for row in _matches(lake, detection, since):
                by_who.setdefault(str(row["who"]), []).append(row)
            for who, rows in by_who.items():
                matched += len(rows)
                findings.append(_finding(detection, who, rows))
    return findings, matched


def detect_azure(
    lake: Lake, detections: Iterable[AzureDetection] = DETECTIONS, since: datetime | None = None
) -> AzureDetectResult:
    """Runs the detections and saves their alerts as one run (check ids = the detections)."""
    chosen = list(detections)
    run_id = start_run(lake, "detect-azure")
    findings, matched = evaluate(lake, chosen, since)
    lifecycle = save_findings(lake, run_id, findings, [d.check_id for d in chosen])
    finish_run(lake, run_id, "ok", {"alerts": len(findings), "matched": matched, **lifecycle})
    return AzureDetectResult(run_id, findings, matched, lifecycle)
