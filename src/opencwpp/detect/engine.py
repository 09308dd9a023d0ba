"""Runs compiled rules over `aws_cloudtrail_events` and turns matches into findings.

One finding per (rule, identity): an attacker repeating an API a thousand times is one line,
with the event count, the first and last event time and the first event ids as evidence.
Findings are FAIL in the threat-detection pillar; a (rule, identity) that stops matching in a
later run over the same events becomes RESOLVED through the findings history. Correlation
rules (Sigma `correlation:`) run one query each through `sigma.correlation_alerts`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
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
_ACCOUNT_SQL = "COALESCE(user_identity_account_id, recipient_account_id, '')"
_SEVERITY = SEVERITY


@dataclass
class DetectResult:
    """What one detection run produced."""

    run_id: str
    findings: list[Finding] = field(default_factory=list)
    matched_events: int = 0
    rules_run: int = 0
    lifecycle: dict[str, int] = field(default_factory=dict)


def _where(rule: CompiledRule, since: datetime | None) -> str:
    """The rule's predicate, limited to events from `since` on when given."""
    if since is None:
        return rule.where
    return f"({rule.where}) AND event_time >= CAST('{since:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP)"


def _branch(index: int, rule: CompiledRule, since: datetime | None) -> str:
    """One rule's matching events: its index, the identity and account, the event id and time."""
    return (
        f"SELECT {index} AS rule_index, {IDENTITY_SQL} AS identity, {_ACCOUNT_SQL} AS account_id, "
        f"event_id, event_time FROM {EVENTS.name} WHERE {_where(rule, since)}"
    )


def _branches(rules: list[CompiledRule], since: datetime | None) -> str:
    """The matching events of every rule of a batch, as one UNION ALL."""
    return " UNION ALL ".join(_branch(i, rule, since) for i, rule in enumerate(rules))


def _matched_rows(rules: list[CompiledRule], since: datetime | None) -> str:
    """DuckDB: `_branches`'s rows, the Sigma rules' scans keeping only their matches' row ids.

    A scan outputs each column the query needs for every vector of rows holding a match, and
    the matches of a Sigma rule are spread over the whole table: with the identity, account,
    id and time in each rule's branch, every rule read those columns for nearly every event.
    Keeping the row ids alone and joining all the matches of the batch to those columns once
    halves the CPU of the 29-rule Sigma batch on 1,000,000 events (1.2 to 0.6 s; the 64-rule
    one, whose cost is mostly its 322,000 matches' aggregation, gains a tenth). A stateful
    detection (`event_id IN (…)`) keeps its branch: DuckDB turns its few flagged ids into a
    filter of the scan, which then reads only those rows, and the join would read them all.
    """
    late = [i for i, rule in enumerate(rules) if rule.kind == "sigma"]
    parts = [_branch(i, rule, since) for i, rule in enumerate(rules) if rule.kind != "sigma"]
    if late:
        ids = " UNION ALL ".join(
            f"SELECT {i} AS rule_index, rowid AS row_id FROM {EVENTS.name} "
            f"WHERE {_where(rules[i], since)}"
            for i in late
        )
        parts.append(
            f"SELECT m.rule_index, {IDENTITY_SQL} AS identity, {_ACCOUNT_SQL} AS account_id, "
            f"e.event_id, e.event_time FROM ({ids}) AS m "
            f"JOIN {EVENTS.name} AS e ON e.rowid = m.row_id"
        )
    return " UNION ALL ".join(parts)


def rules_sql(rules: list[CompiledRule], since: datetime | None = None) -> str:
    """One query for a batch of rules: matching events per (rule, identity), numbered.

    One UNION ALL query per batch lets the database scan for all the rules in parallel and
    saves a round trip per rule; only the first events of each group come back to Python.
    Portable (PostgreSQL); on DuckDB `grouped_sql` gives the same groups, cheaper.
    """
    window = "PARTITION BY rule_index, identity"
    return (
        "SELECT rule_index, identity, account_id, event_id, event_time, n, first_time, last_time "
        "FROM (SELECT rule_index, identity, account_id, event_id, event_time, "
        f"count(*) OVER ({window}) AS n, min(event_time) OVER ({window}) AS first_time, "
        f"max(event_time) OVER ({window}) AS last_time, "
        f"row_number() OVER ({window} ORDER BY event_time, event_id) AS rn "
        f"FROM ({_branches(rules, since)}) AS matched) AS numbered "
        f"WHERE rn <= {MAX_EVIDENCE_EVENTS} ORDER BY rule_index, identity, rn"
    )


def grouped_sql(rules: list[CompiledRule], since: datetime | None = None) -> str:
    """DuckDB: `rules_sql`'s groups as one row each, the first event ids in a list.

    Aggregating (top-N by time, then id) instead of numbering every match with window
    functions returns a row per alert rather than per event: a third less time on DuckDB.
    """
    first = "(event_time, event_id)"
    return (
        "SELECT rule_index, identity, count(*) AS n, min(event_time) AS first_time, "
        f"max(event_time) AS last_time, arg_min(account_id, {first}) AS account_id, "
        f"min_by(event_id, {first}, {MAX_EVIDENCE_EVENTS}) AS event_ids "
        f"FROM ({_matched_rows(rules, since)}) AS matched "
        "GROUP BY rule_index, identity ORDER BY rule_index, identity"
    )


def _groups(lake: Lake, rules: list[CompiledRule], since: datetime | None) -> list[dict[str, Any]]:
    """One row per (rule, identity): n, first/last time, account id and the first event ids."""
    if lake.dialect == "duckdb":
        return lake.query(grouped_sql(rules, since))
    groups: dict[tuple[int, str], dict[str, Any]] = {}
    for row in lake.query(rules_sql(rules, since)):
        key = (int(row["rule_index"]), str(row["identity"]))
        group = groups.get(key)
        if group is None:
            group = groups[key] = {**row, "event_ids": []}
        group["event_ids"].append(row["event_id"])
    return list(groups.values())


@dataclass(frozen=True, slots=True)
class _RuleParts:
    """What every alert of one rule shares, computed once per rule rather than per alert."""

    evidence: dict[str, Any]
    severity: Severity
    remediation: str
    author: str
    attack: tuple[str, ...]

    @classmethod
    def of(cls, rule: CompiledRule) -> _RuleParts:
        return cls(
            rule.evidence,
            _SEVERITY.get(rule.level, Severity.MEDIUM),
            rule.triage,
            f" (rule by {rule.author})" if rule.author else "",
            rule.mitre_attack,
        )


def _finding(rule: CompiledRule, parts: _RuleParts, group: dict[str, Any]) -> Finding:
    identity = str(group["identity"])
    count = int(group["n"])
    ids = [str(i) for i in group["event_ids"]]
    first_time, last_time = group["first_time"], group["last_time"]
    evidence = {
        **parts.evidence,
        "rule_references": list(parts.evidence["rule_references"]),
        "rule_tags": list(parts.evidence["rule_tags"]),
        "rule_falsepositives": list(parts.evidence["rule_falsepositives"]),
        "event_count": count,
        "event_ids": ids,
        "event_ids_truncated": count > len(ids),
        "first_event_time": first_time.isoformat() if first_time else None,
        "last_event_time": last_time.isoformat() if last_time else None,
    }
    return Finding(
        check_id=rule.check_id,
        title=rule.title,
        pillar=Pillar.THREAT,
        severity=parts.severity,
        status=Status.FAIL,
        resource=ResourceRef(uid=identity, type=IDENTITY_TYPE, account_id=str(group["account_id"])),
        status_reason=f"{count} matching CloudTrail event(s) by {identity}{parts.author}",
        evidence=evidence,
        remediation=parts.remediation,
        mitre_attack=parts.attack,
        first_seen=first_time,
        last_seen=last_time,
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while alerts are built.

    Tens of thousands of alert rows and findings are created and kept, which makes the
    collector walk the growing heap again and again: it was 60% of the Python time of a run
    (0.3 of 0.5 CPU s for 29,000 alerts). What it would find is collected once it is back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def evaluate(
    lake: Lake,
    rules: Iterable[CompiledRule],
    since: datetime | None = None,
    progress: Callable[[CompiledRule], None] | None = None,
) -> tuple[list[Finding], int]:
    """Findings of every rule over the stored events, and how many events matched in all."""
    with _gc_paused():
        return _evaluate(lake, rules, since, progress)


def _by_kind(rules: list[CompiledRule]) -> list[list[CompiledRule]]:
    """The Sigma rules, then the other (stateful) ones, each in their given order."""
    return [[r for r in rules if r.kind == "sigma"], [r for r in rules if r.kind != "sigma"]]


def _evaluate(
    lake: Lake,
    rules: Iterable[CompiledRule],
    since: datetime | None,
    progress: Callable[[CompiledRule], None] | None,
) -> tuple[list[Finding], int]:
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
    # The batches' queries run one after the other on a worker thread (the same connection,
    # never used by two threads at once: this thread only builds findings meanwhile), so
    # turning one batch's rows into findings overlaps the next batch's query. The stateful
    # detections go last, in batches of their own: their few alerts leave little to build
    # once the last query is done.
    batches = [
        kind[start : start + _BATCH]
        for kind in _by_kind(todo)
        for start in range(0, len(kind), _BATCH)
    ]
    with inventory or nullcontext(), ThreadPoolExecutor(1, "cwpp-detect") as pool:
        pending = [pool.submit(_groups, lake, batch, since) for batch in batches]
        for batch, rows in zip(batches, pending, strict=True):
            parts = [_RuleParts.of(rule) for rule in batch]  # once per rule, not per alert
            for group in rows.result():
                index = int(group["rule_index"])
                matched += int(group["n"])
                findings.append(_finding(batch[index], parts[index], group))
            if progress is not None:
                for rule in batch:
                    progress(rule)
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
