"""What a report is made of: findings plus run facts, and the pure summaries every format shares."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opencwpp.core.models import Finding, Pillar, Severity, Status
from opencwpp.report.diff import RunDiff, TrendPoint

LIFECYCLE_STATES = ("NEW", "OPEN", "RESOLVED")

_RANK = {s: s.rank for s in Severity}  # Severity.rank scans the enum: too slow for 50k findings
# Order of statuses inside a check: what needs action first.
_STATUS_ORDER = {Status.FAIL: 0, Status.NOT_ASSESSED: 1, Status.MUTED: 2, Status.PASS: 3}


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One CloudTrail event behind a threat-detection alert, as the exports and dashboard show it.

    Every text field comes from the event record, so it is attacker-controlled: escape it.
    """

    event_id: str
    event_time: datetime | None
    event_name: str
    event_source: str
    principal: str  # the identity ARN, else principal id, user name or identity type
    source_ip: str  # an IP address, or the AWS service that made the call
    region: str
    error_code: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything a format renders: the findings and the facts of the run that produced them."""

    findings: list[Finding]
    generated_at: datetime
    lake_url: str  # already redacted by the caller: no passwords reach a report
    run_id: str | None = None
    lifecycle: dict[str, str] = field(default_factory=dict)  # finding id -> NEW|OPEN|RESOLVED
    changes: RunDiff | None = None  # the last two runs compared, when history has two
    trend: list[TrendPoint] = field(default_factory=list)  # failing counts per run, oldest first
    # Alert finding id -> the stored events behind it (set only for alerts that were looked up).
    alert_events: dict[str, list[AlertEvent]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckCount:
    """One row of the top failing checks."""

    check_id: str
    title: str
    severity: Severity
    count: int


@dataclass(frozen=True, slots=True)
class CheckGroup:
    """The findings of one check, failing first, for per-check sections."""

    check_id: str
    title: str
    severity: Severity
    pillar: Pillar
    findings: list[Finding]

    @property
    def failing(self) -> int:
        """How many of the check's findings failed."""
        return sum(1 for f in self.findings if f.status is Status.FAIL)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`; naive datetimes are taken as UTC (the lake stores UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_event_ids(evidence: Mapping[str, Any] | None) -> list[str] | None:
    """The event ids an alert's evidence names, or None when it names none (not an alert)."""
    ids = (evidence or {}).get("event_ids")
    if not isinstance(ids, list) or not ids:
        return None
    return [str(i) for i in ids]


def alert_event_dict(event: AlertEvent) -> dict[str, str | None]:
    """An alert's event as JSON values, keyed like CloudTrail (`eventName`, `eventTime` …)."""
    return {
        "eventID": event.event_id,
        "eventTime": iso_utc(event.event_time),
        "eventName": event.event_name,
        "eventSource": event.event_source,
        "principal": event.principal,
        "sourceIPAddress": event.source_ip,
        "awsRegion": event.region,
        "errorCode": event.error_code or None,
        "userAgent": event.user_agent or None,
    }


def sort_key(finding: Finding) -> tuple[int, str, str, int]:
    """Stable report order: severity descending, then check id, then resource uid."""
    return (
        -_RANK[finding.severity],
        finding.check_id,
        finding.resource.uid,
        _STATUS_ORDER[finding.status],
    )


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Returns the findings in the stable report order."""
    return sorted(findings, key=sort_key)


def failing(findings: list[Finding]) -> list[Finding]:
    """The findings whose status is FAIL."""
    return [f for f in findings if f.status is Status.FAIL]


def severity_matrix(findings: list[Finding]) -> dict[Pillar, dict[Severity, int]]:
    """Counts of FAIL findings per pillar and severity, every cell present (zeros included)."""
    matrix = {p: dict.fromkeys(Severity, 0) for p in Pillar}
    for f in failing(findings):
        matrix[f.pillar][f.severity] += 1
    return matrix


def failing_by_severity(findings: list[Finding]) -> dict[Severity, int]:
    """Counts of FAIL findings per severity, critical first."""
    counts = Counter(f.severity for f in failing(findings))
    return {s: counts[s] for s in sorted(Severity, key=lambda s: -s.rank)}


def failing_by_pillar(findings: list[Finding]) -> dict[Pillar, int]:
    """Counts of FAIL findings per pillar, in the pillars' declared order."""
    counts = Counter(f.pillar for f in failing(findings))
    return {p: counts[p] for p in Pillar}


def status_counts(findings: list[Finding]) -> dict[Status, int]:
    """Counts of findings per status, every status present."""
    counts = Counter(f.status for f in findings)
    return {s: counts[s] for s in Status}


def lifecycle_counts(data: ReportData) -> dict[str, int]:
    """Counts of the run's findings per lifecycle state; empty when no history was given."""
    if not data.lifecycle:
        return {}
    counts = Counter(data.lifecycle.get(f.id) for f in data.findings)
    return {state: counts[state] for state in LIFECYCLE_STATES}


def top_failing_checks(findings: list[Finding], limit: int = 10) -> list[CheckCount]:
    """The failing checks, most severe first, then by how many resources fail, then by id.

    Severity leads: one public bucket matters more than ten buckets without access logging.
    """
    counts: Counter[str] = Counter()
    first: dict[str, Finding] = {}
    for f in failing(findings):
        counts[f.check_id] += 1
        first.setdefault(f.check_id, f)
    rows = [CheckCount(cid, first[cid].title, first[cid].severity, n) for cid, n in counts.items()]
    rows.sort(key=lambda r: (-r.severity.rank, -r.count, r.check_id))
    return rows[:limit]


def group_by_check(findings: list[Finding]) -> list[CheckGroup]:
    """Findings grouped per check: checks with failures first, then severity desc, then id."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.check_id, []).append(f)
    result = []
    for cid, items in groups.items():
        items.sort(key=lambda f: (_STATUS_ORDER[f.status], f.resource.uid))
        head = max(items, key=lambda f: f.severity.rank)
        result.append(CheckGroup(cid, head.title, head.severity, head.pillar, items))
    result.sort(key=lambda g: (g.failing == 0, -g.severity.rank, g.check_id))
    return result


PILLAR_LABELS = {
    Pillar.VULNERABILITY: "Vulnerability",
    Pillar.ACCESS: "Access control",
    Pillar.ENCRYPTION: "Data encryption",
    Pillar.THREAT: "Threat detection",
}


def severities_desc() -> list[Severity]:
    """The severities from critical down to informational."""
    return sorted(Severity, key=lambda s: -s.rank)
