"""Alert grouping edge cases, against an oracle computed in Python, on both backends.

One alert per (rule, identity): the event count, the first and last time, the account of the
first event and the first `MAX_EVIDENCE_EVENTS` event ids by (time, id). DuckDB gets these from
the row ids of each Sigma rule's matches joined to the events once (`engine._matched_rows`), the
other backends from the portable window query; both must give exactly these groups, also for
a predicate the database cannot push into its scan, ties in time, big groups and identities
with missing parts.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opencwpp.detect.engine import MAX_EVIDENCE_EVENTS, evaluate
from opencwpp.detect.sigma.rules import CompiledRule
from opencwpp.lake import Lake
from tests.integration.test_detect_rule_cases import load_events

T0 = datetime(2024, 8, 1, 12, 0, tzinfo=UTC)
ALICE = {
    "type": "IAMUser",
    "principalId": "AIDAALICE",
    "arn": "arn:aws:iam::111111111111:user/alice",
    "accountId": "111111111111",
}
# No ARN: the principal id names the caller; no account id in the identity: the recipient's.
BOB = {"type": "AssumedRole", "principalId": "AROABOB:session"}
# Neither ARN nor principal id: the type and the source address name the caller.
SERVICE = {"type": "AWSService"}

# Pushed into the scan (a plain comparison) and not (JSON, OR with a negation).
PLAIN = CompiledRule(id="plain", title="plain", level="low", where="event_name = 'GetObject'")
FILTERED = CompiledRule(
    id="filtered",
    title="filtered",
    level="high",
    where=(
        "(COALESCE(json_extract_string(request_parameters, '$.bucketName') = 'loot', FALSE) "
        "OR NOT (event_name <> 'GetObject' OR source_ip_address IS NULL))"
    ),
)
# A stateful detection's shape: a semi-join on event ids (its own branch, not the row-id join).
FLAGGED = CompiledRule(
    id="flagged",
    title="flagged",
    level="low",
    where=(
        "event_id IN (SELECT event_id FROM aws_cloudtrail_events WHERE event_name = 'GetObject')"
    ),
    kind="stateful",
)


def _event(n: int, second: int, identity: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventVersion": "1.09",
        "eventID": f"ev-{n:03d}",
        "eventTime": f"2024-08-01T12:{second // 60:02d}:{second % 60:02d}Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "recipientAccountId": "222222222222",
        "requestParameters": {"bucketName": "loot" if n % 3 == 0 else "other"},
    }
    if identity is not None:
        event["userIdentity"] = identity
    return event | extra


def _events() -> list[dict[str, Any]]:
    """Alice: 30 events, 12 of them in the same second; Bob, a service and no identity."""
    events = [_event(n, 5 if n < 12 else n, ALICE) for n in range(30)]
    events += [_event(100 + n, 40 - n, BOB) for n in range(3)]
    events += [_event(200, 7, SERVICE), _event(201, 7, SERVICE, sourceIPAddress=None)]
    events += [_event(300, 9, None), _event(301, 9, ALICE, eventName="PutObject")]
    random.Random(7).shuffle(events)  # storage order must not matter
    return events


def _identity(event: dict[str, Any]) -> str:
    who = event.get("userIdentity") or {}
    if who.get("arn") or who.get("principalId"):
        return str(who.get("arn") or who.get("principalId"))
    if who.get("type"):
        return f"{who['type']}:{event.get('sourceIPAddress') or ''}"
    return "unknown"


def _matches(rule: CompiledRule, event: dict[str, Any]) -> bool:
    get = event["eventName"] == "GetObject"
    if rule is PLAIN or rule is FLAGGED:
        return get
    loot = event["requestParameters"]["bucketName"] == "loot"
    return loot or (get and event.get("sourceIPAddress") is not None)


def _oracle(rules: list[CompiledRule], events: list[dict[str, Any]], since: int = 0) -> list[Any]:
    """(check id, identity, account, count, first/last time, first ids), from the events."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rule in rules:
        for event in events:
            second = int(event["eventTime"][14:16]) * 60 + int(event["eventTime"][17:19])
            if _matches(rule, event) and second >= since:
                groups.setdefault((rule.check_id, _identity(event)), []).append(event)
    out = []
    for (check, who), matched in groups.items():
        matched.sort(key=lambda e: (e["eventTime"], e["eventID"]))
        first = matched[0]
        account = (first.get("userIdentity") or {}).get("accountId") or first["recipientAccountId"]
        ids = [e["eventID"] for e in matched[:MAX_EVIDENCE_EVENTS]]
        times = (first["eventTime"], matched[-1]["eventTime"])
        out.append((check, who, account, len(matched), *times, ids))
    return sorted(out)


def _alerts(lake: Lake, rules: list[CompiledRule], since: datetime | None = None) -> list[Any]:
    findings, matched = evaluate(lake, rules, since)
    out = sorted(
        (
            f.check_id,
            f.resource.uid,
            f.resource.account_id,
            f.evidence["event_count"],
            f.evidence["first_event_time"][:19] + "Z",
            f.evidence["last_event_time"][:19] + "Z",
            f.evidence["event_ids"],
        )
        for f in findings
    )
    assert matched == sum(a[3] for a in out)
    return out


def test_groups_equal_the_oracle(lake: Lake, tmp_path: Path) -> None:
    events = _events()
    load_events(lake, events, tmp_path)
    rules = [PLAIN, FLAGGED, FILTERED]
    got = _alerts(lake, rules)
    assert got == _oracle(rules, events)
    alice = next(a for a in got if a[0] == "sigma:plain" and a[1] == ALICE["arn"])
    # 30 matches, 12 tied in the first second: the evidence is the first 20 by (time, id).
    assert alice[3] == 30 and alice[6] == [f"ev-{n:03d}" for n in range(20)]
    assert {a[1] for a in got} >= {"AROABOB:session", "AWSService:203.0.113.7", "unknown"}
    assert "AWSService:" in {a[1] for a in got if a[0] == "sigma:plain"}


def test_since_limits_the_events(lake: Lake, tmp_path: Path) -> None:
    events = _events()
    load_events(lake, events, tmp_path)
    rules = [FILTERED, FLAGGED, PLAIN]
    since = T0.replace(second=20).replace(tzinfo=None)
    assert _alerts(lake, rules, since) == _oracle(rules, events, since=20)
