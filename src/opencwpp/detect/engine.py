"""Runs compiled rules over `aws_cloudtrail_events` and turns matches into findings.

One finding per (rule, identity): an attacker repeating an API a thousand times is one line,
with the event count, the first and last event time and the first event ids as evidence.
Findings are FAIL in the threat-detection pillar; a (rule, identity) that stops matching in a
later run over the same events becomes RESOLVED through the findings history. Correlation
rules (Sigma `correlation:`) run one query each through `sigma.correlation_alerts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.detect.ingest.table import EVENTS
from opencwpp.detect.inventory import KNOWN_ACCOUNTS, known_accounts
from opencwpp.detect.sigma.correlation_alerts import SEVERITY, correlation_findings
from opencwpp.detect.sigma.rules import CompiledRule
from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.lake.lake import Lake

MAX_EVIDENCE_EVENTS = 20
_BATCH = 64
IDENTITY_TYPE = "AwsIdentity"
IDENTITY_SQL = (
    "COALESCE(NULLIF(user_identity_arn, ''), NULLIF(user_identity_principal_id, ''), "
    "CASE WHEN user_identity_type IS NOT NULL THEN user_identity_type || ':' || "
    "COALESCE(source_ip_address, '') END, 'unknown')"
)
_SEVERITY = SEVERITY


@dataclass
class DetectResult:
    """What one detection run produced."""

    run_id: str
    findings: list[Finding] = field(default_factory=list)
    matched_events: int = 0
    rules_run: int = 0
    lifecycle: dict[str, int] = field(default_factory=dict)


def rules_sql(rules: list[CompiledRule], since: datetime | None = None) -> str:
    """One query for a batch of rules: matching events per (rule, identity), numbered.

    One UNION ALL query per batch lets DuckDB scan for all the rules in parallel and saves a
    round trip per rule; only the first events of each group come back to Python.
    """
    window = "PARTITION BY rule_index, identity"
    branches = []
    for index, rule in enumerate(rules):
        where = rule.where
        if since is not None:
            where = f"({where}) AND event_time >= CAST('{since:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP)"
        branches.append(
            f"SELECT {index} AS rule_index, {IDENTITY_SQL} AS identity, "
            "COALESCE(user_identity_account_id, recipient_account_id, '') AS account_id, "
            f"event_id, event_time FROM {EVENTS.name} WHERE {where}"
        )
    return (
        "SELECT rule_index, identity, account_id, event_id, event_time, n, first_time, last_time "
        "FROM (SELECT rule_index, identity, account_id, event_id, event_time, "
        f"count(*) OVER ({window}) AS n, min(event_time) OVER ({window}) AS first_time, "
        f"max(event_time) OVER ({window}) AS last_time, "
        f"row_number() OVER ({window} ORDER BY event_time, event_id) AS rn "
        "FROM (" + " UNION ALL ".join(branches) + ") AS matched) AS numbered "
        f"WHERE rn <= {MAX_EVIDENCE_EVENTS} ORDER BY rule_index, identity, rn"
    )


def _finding(rule: CompiledRule, rows: list[dict[str, Any]], attack: tuple[str, ...]) -> Finding:
    first = rows[0]
    identity = str(first["identity"])
    count = int(first["n"])
    evidence = {
        "rule_id": rule.id,
        "rule_title": rule.title,
        "rule_author": rule.author,
        "rule_level": rule.level,
        "rule_references": list(rule.references),
        "rule_tags": list(rule.tags),
        "rule_path": rule.path,
        "event_count": count,
        "event_ids": [str(r["event_id"]) for r in rows],
        "event_ids_truncated": count > len(rows),
        "first_event_time": first["first_time"].isoformat() if first["first_time"] else None,
        "last_event_time": first["last_time"].isoformat() if first["last_time"] else None,
    }
    author = f" (rule by {rule.author})" if rule.author else ""
    return Finding(
        check_id=rule.check_id,
        title=rule.title,
        pillar=Pillar.THREAT,
        severity=_SEVERITY.get(rule.level, Severity.MEDIUM),
        status=Status.FAIL,
        resource=ResourceRef(uid=identity, type=IDENTITY_TYPE, account_id=str(first["account_id"])),
        status_reason=f"{count} matching CloudTrail event(s) by {identity}{author}",
        evidence=evidence,
        remediation="; ".join(rule.falsepositives),
        mitre_attack=attack,
        first_seen=first["first_time"],
        last_seen=first["last_time"],
    )


def evaluate(
    lake: Lake,
    rules: Iterable[CompiledRule],
    since: datetime | None = None,
    progress: Callable[[CompiledRule], None] | None = None,
) -> tuple[list[Finding], int]:
    """Findings of every rule over the stored events, and how many events matched in all."""
    findings: list[Finding] = []
    matched = 0
    if not lake.table_exists(EVENTS.name):
        return findings, matched
    todo = []
    for rule in rules:
        if rule.correlation is None:
            todo.append(rule)
            continue
        if progress is not None:
            progress(rule)
        found, count = correlation_findings(lake, rule, since)
        findings.extend(found)
        matched += count
    inventory = known_accounts(lake) if any(KNOWN_ACCOUNTS in r.where for r in todo) else None
    with inventory or nullcontext():
        for start in range(0, len(todo), _BATCH):
            batch = todo[start : start + _BATCH]
            if progress is not None:
                for rule in batch:
                    progress(rule)
            groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
            for row in lake.query(rules_sql(batch, since)):
                groups.setdefault((int(row["rule_index"]), str(row["identity"])), []).append(row)
            attack = [rule.mitre_attack for rule in batch]  # parsed once per rule, not per alert
            for (index, _), rows in groups.items():
                matched += int(rows[0]["n"])
                findings.append(_finding(batch[index], rows, attack[index]))
    return findings, matched


def detect(
    lake: Lake,
    rules: list[CompiledRule],
    since: datetime | None = None,
    allow: Callable[[list[Finding]], list[Finding]] | None = None,
) -> DetectResult:
    """Runs the rules, saves their findings as one run (check ids = the rules that ran).

    `allow` (an allow-list's `apply`) turns alerts of known automation into MUTED findings.
    """
    run_id = start_run(lake, "detect")
    findings, matched = evaluate(lake, rules, since)
    if allow is not None:
        findings = allow(findings)
    lifecycle = save_findings(lake, run_id, findings, [r.check_id for r in rules])
    summary = {"rules": len(rules), "alerts": len(findings), "matched_events": matched}
    finish_run(lake, run_id, "ok", summary | {"lifecycle": lifecycle})
    return DetectResult(run_id, findings, matched, len(rules), lifecycle)
