"""Correlation rules run over the lake, their firing windows turned into findings.

One finding per (correlation rule, group key), like base rules (one per rule and identity): the
evidence names the group, the first firing window (start, end = start + timespan, last event),
how many anchored windows fired, and that window's first event ids.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.detect.sigma.correlation import CorrelationSpec, correlation_sql
from opencwpp.detect.sigma.rules import CompiledRule
from opencwpp.lake.lake import Lake

SEVERITY = {
    "informational": Severity.INFORMATIONAL,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}
GROUP_TYPE = "CloudTrailGroup"
IDENTITY_TYPE = "AwsIdentity"


def _resource(spec: CorrelationSpec, group: dict[str, str], account: str) -> ResourceRef:
    values = [v or "(none)" for v in group.values()]
    if len(values) == 1:
        uid = values[0]
    elif values:
        uid = "; ".join(f"{k}={v or '(none)'}" for k, v in group.items())
    else:
        uid = "(all events)"
    identity = bool(spec.group_by) and all(g.startswith("userIdentity.") for g in spec.group_by)
    return ResourceRef(uid=uid, type=IDENTITY_TYPE if identity else GROUP_TYPE, account_id=account)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _finding(rule: CompiledRule, spec: CorrelationSpec, rows: list[dict[str, Any]]) -> Finding:
    first = rows[0]
    group = {g: str(first[f"k{i}"]) for i, g in enumerate(spec.group_by)}
    start: datetime = first["win_start"]
    ids = list(dict.fromkeys(str(r["event_id"]) for r in rows))
    in_window = int(first["in_window"])
    evidence = {
        **rule.evidence,
        "correlation_type": spec.type,
        "correlated_rules": [m.reference for m in spec.members],
        "timespan": spec.timespan,
        "condition": f"{spec.op} {spec.count}",
        "group_by": group,
        "value_field": spec.value_field,
        "measure": first["n"],
        "window_start": _iso(start),
        "window_end": _iso(start + timedelta(seconds=spec.seconds)),
        "firing_windows": int(first["firing_windows"]),
        "event_count": in_window,
        "event_ids": ids,
        "event_ids_truncated": in_window > len(rows),
        "first_event_time": _iso(start),
        "last_event_time": _iso(first["win_last"]),
    }
    described = ", ".join(f"{k}={v}" for k, v in group.items()) or "all events"
    author = f" (rule by {rule.author})" if rule.author else ""
    return Finding(
        check_id=rule.check_id,
        title=rule.title,
        pillar=Pillar.THREAT,
        severity=SEVERITY.get(rule.level, Severity.MEDIUM),
        status=Status.FAIL,
        resource=_resource(spec, group, str(first["account_id"])),
        status_reason=(
            f"{spec.type} {spec.op} {spec.count} within {spec.timespan} for {described}: "
            f"{first['n']} from {in_window} event(s){author}"
        ),
        evidence=evidence,
        remediation=rule.triage,
        mitre_attack=rule.mitre_attack,
        first_seen=start,
        last_seen=first["win_last"],
    )


def correlation_findings(
    lake: Lake, rule: CompiledRule, since: datetime | None = None
) -> tuple[list[Finding], int]:
    """Findings of one correlation rule, and how many events its first windows hold."""
    spec = rule.correlation
    if spec is None:
        raise ValueError(f"{rule.id} is not a correlation rule")
    bound = f"CAST('{since:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP)" if since is not None else None
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    width = max(1, len(spec.group_by))
    for row in lake.query(correlation_sql(spec, bound)):
        groups.setdefault(tuple(str(row[f"k{i}"]) for i in range(width)), []).append(row)
    findings = [_finding(rule, spec, rows) for rows in groups.values()]
    return findings, sum(int(rows[0]["in_window"]) for rows in groups.values())
