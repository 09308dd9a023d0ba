"""Sigma correlation rules on both backends: thresholds, sliding timespans, groups, order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from opencwpp.detect.engine import detect, evaluate
from opencwpp.detect.pack import load_pack, pack_files
from opencwpp.detect.sigma import load_rules
from opencwpp.lake import Lake
from tests.integration.test_detect_rule_cases import DATA, build_events, load_events

_BASE = """title: {title}
id: {id}
name: {name}
level: low
logsource: {{product: aws, service: cloudtrail}}
detection:
  sel: {detection}
  condition: sel
"""
DENIED = _BASE.format(
    title="Denied call",
    id="0c7d1e2a-0000-4000-8000-000000000001",
    name="denied",
    detection="{errorCode: accessdenied}",  # lower case: the events say AccessDenied
)
STOP = _BASE.format(
    title="Stop logging",
    id="0c7d1e2a-0000-4000-8000-000000000002",
    name="stop",
    detection="{eventName: STOPLOGGING}",
)
DETECTOR = _BASE.format(
    title="Delete detector",
    id="0c7d1e2a-0000-4000-8000-000000000003",
    name="detector",
    detection="{eventName: DeleteDetector}",
)
CREATE_USER = _BASE.format(
    title="Create user",
    id="0c7d1e2a-0000-4000-8000-000000000004",
    name="create_user",
    detection="{eventName: CreateUser}",
)
LOGIN = _BASE.format(
    title="Console login",
    id="0c7d1e2a-0000-4000-8000-000000000005",
    name="login",
    detection="{eventName: ConsoleLogin}",
)
CORR_ID = "0c7d1e2a-0000-4000-8000-0000000000c0"


def _correlation(body: str, *, generate: bool = False) -> str:
    return (
        f"title: Correlated\nid: {CORR_ID}\nauthor: tester\nlevel: high\n"
        "tags: [attack.discovery, attack.t1580]\n"
        f"correlation:\n  generate: {str(generate).lower()}\n" + body
    )


EVENT_COUNT = _correlation(
    "  type: event_count\n  rules: [denied]\n  group-by: [userIdentity.arn]\n"
    "  timespan: 10m\n  condition: {gte: 5}\n"
)
VALUE_COUNT = _correlation(
    "  type: value_count\n  rules: [denied]\n  group-by: [userIdentity.arn]\n"
    "  timespan: 10m\n  condition: {gte: 3, field: eventSource}\n"
)
TEMPORAL = _correlation(
    "  type: temporal\n  rules: [stop, 0c7d1e2a-0000-4000-8000-000000000003]\n"
    "  group-by: [userIdentity.arn]\n  timespan: 10m\n"
)
ORDERED = TEMPORAL.replace("type: temporal", "type: temporal_ordered")
ALIASED = _correlation(
    "  type: temporal_ordered\n  rules: [create_user, login]\n  group-by: [user]\n"
    "  timespan: 1h\n  aliases:\n    user:\n      create_user: requestParameters.userName\n"
    "      login: userIdentity.userName\n"
)

ALICE = "arn:aws:iam::111111111111:user/alice"
BOB = {"arn": "arn:aws:iam::111111111111:user/bob", "type": "IAMUser", "userName": "bob"}


def _denied(repeat: int, every: int, start: str = "12:00:00", **extra: Any) -> dict[str, Any]:
    return {
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "errorCode": "AccessDenied",
        "eventTime": f"2024-08-01T{start}Z",
        "repeat": repeat,
        "every_seconds": every,
        **extra,
    }


def _call(name: str, at: str) -> dict[str, Any]:
    return {"eventSource": "x.amazonaws.com", "eventName": name, "eventTime": f"2024-08-01T{at}Z"}


CASES: list[tuple[str, list[str], list[dict[str, Any]], int]] = [
    ("event_count fires at the threshold", [DENIED, EVENT_COUNT], [_denied(5, 60)], 1),
    ("event_count one below stays quiet", [DENIED, EVENT_COUNT], [_denied(4, 60)], 0),
    ("event_count spread over > timespan", [DENIED, EVENT_COUNT], [_denied(5, 180)], 0),
    (
        "event_count burst straddling a 10m bucket boundary fires",
        [DENIED, EVENT_COUNT],
        [_denied(5, 60, start="12:07:00")],
        1,
    ),
    (
        "event_count groups are not pooled",
        [DENIED, EVENT_COUNT],
        [_denied(3, 60), _denied(2, 60, start="12:00:30", userIdentity=BOB)],
        0,
    ),
    (
        "event_count one alert per group",
        [DENIED, EVENT_COUNT],
        [_denied(5, 60), _denied(6, 10, userIdentity=BOB)],
        2,
    ),
    (
        "value_count distinct values fire",
        [DENIED, VALUE_COUNT],
        [
            _denied(1, 0, eventSource="ec2.amazonaws.com"),
            _denied(1, 0, start="12:01:00", eventSource="s3.amazonaws.com"),
            _denied(1, 0, start="12:02:00", eventSource="iam.amazonaws.com"),
        ],
        1,
    ),
    (
        "value_count repeated values stay quiet",
        [DENIED, VALUE_COUNT],
        [_denied(8, 30), _denied(4, 30, start="12:01:00", eventSource="s3.amazonaws.com")],
        0,
    ),
    (
        "value_count values spread over > timespan",
        [DENIED, VALUE_COUNT],
        [
            _denied(1, 0, eventSource="ec2.amazonaws.com"),
            _denied(1, 0, start="12:06:00", eventSource="s3.amazonaws.com"),
            _denied(1, 0, start="12:12:00", eventSource="iam.amazonaws.com"),
        ],
        0,
    ),
    (
        "temporal both rules, any order",
        [STOP, DETECTOR, TEMPORAL],
        [_call("DeleteDetector", "12:00:00"), _call("StopLogging", "12:05:00")],
        1,
    ),
    (
        "temporal one rule missing",
        [STOP, DETECTOR, TEMPORAL],
        [_call("StopLogging", "12:00:00")],
        0,
    ),
    (
        "temporal both rules too far apart",
        [STOP, DETECTOR, TEMPORAL],
        [_call("StopLogging", "12:00:00"), _call("DeleteDetector", "12:10:00")],
        0,
    ),
    (
        "temporal different identities not pooled",
        [STOP, DETECTOR, TEMPORAL],
        [
            _call("StopLogging", "12:00:00"),
            _call("DeleteDetector", "12:01:00") | {"userIdentity": BOB},
        ],
        0,
    ),
    (
        "temporal_ordered in order",
        [STOP, DETECTOR, ORDERED],
        [_call("stoplogging", "12:00:00"), _call("DeleteDetector", "12:09:59")],
        1,
    ),
    (
        "temporal_ordered wrong order",
        [STOP, DETECTOR, ORDERED],
        [_call("DeleteDetector", "12:00:00"), _call("StopLogging", "12:05:00")],
        0,
    ),
    (
        "aliases join different fields",
        [CREATE_USER, LOGIN, ALIASED],
        [
            _call("CreateUser", "12:00:00") | {"requestParameters": {"userName": "eve"}},
            _call("ConsoleLogin", "12:30:00")
            | {"userIdentity": {"type": "IAMUser", "userName": "eve"}},
        ],
        1,
    ),
    (
        "aliases with different values stay quiet",
        [CREATE_USER, LOGIN, ALIASED],
        [
            _call("CreateUser", "12:00:00") | {"requestParameters": {"userName": "eve"}},
            _call("ConsoleLogin", "12:30:00")
            | {"userIdentity": {"type": "IAMUser", "userName": "mallory"}},
        ],
        0,
    ),
]


def _ruleset(tmp_path: Path, docs: list[str]) -> Any:
    path = tmp_path / "rules.yml"
    path.write_text("\n---\n".join(docs))
    return load_rules([path])


@pytest.mark.parametrize(("name", "docs", "specs", "alerts"), CASES, ids=[c[0] for c in CASES])
def test_correlation_cases(
    lake: Lake, tmp_path: Path, name: str, docs: list[str], specs: list[dict[str, Any]], alerts: int
) -> None:
    ruleset = _ruleset(tmp_path, docs)
    assert ruleset.problems == [], name
    (rule,) = ruleset.rules  # generate: false silences the referenced base rules
    assert rule.correlation is not None
    events, _ = build_events(specs, "e")
    load_events(lake, events, tmp_path)
    findings, _ = evaluate(lake, ruleset.rules)
    assert len(findings) == alerts, name
    assert all(f.check_id == f"sigma:{CORR_ID}" for f in findings)


def test_correlation_alert_shape(lake: Lake, tmp_path: Path) -> None:
    ruleset = _ruleset(tmp_path, [DENIED, EVENT_COUNT])
    events, _ = build_events([_denied(30, 5, start="12:07:00")], "e")
    load_events(lake, events, tmp_path)
    result = detect(lake, ruleset.rules)
    (alert,) = result.findings
    ev = alert.evidence
    assert alert.resource.uid == ALICE and alert.resource.type == "AwsIdentity"
    assert alert.resource.account_id == "111111111111"
    assert ev["rule_author"] == "tester" and ev["correlation_type"] == "event_count"
    assert ev["group_by"] == {"userIdentity.arn": ALICE}
    assert ev["window_start"].startswith("2024-08-01T12:07:00")
    assert ev["window_end"].startswith("2024-08-01T12:17:00")
    assert ev["event_count"] == 30 and len(ev["event_ids"]) == 20 and ev["event_ids_truncated"]
    assert ev["firing_windows"] == 26  # anchors 12:07:00 … 12:09:05 each start 5+ events
    assert alert.severity.value.lower() == "high" and "T1580" in alert.mitre_attack


def test_generate_true_keeps_base_rule_alerts(lake: Lake, tmp_path: Path) -> None:
    ruleset = _ruleset(tmp_path, [DENIED, EVENT_COUNT.replace("generate: false", "generate: true")])
    assert sorted(r.correlation is not None for r in ruleset.rules) == [False, True]
    events, _ = build_events([_denied(5, 60)], "e")
    load_events(lake, events, tmp_path)
    findings, _ = evaluate(lake, ruleset.rules)
    assert len(findings) == 2


def test_unknown_reference_is_a_problem(tmp_path: Path) -> None:
    broken = EVENT_COUNT.replace("rules: [denied]", "rules: [denied, nosuchrule]")
    ruleset = _ruleset(tmp_path, [DENIED, broken])
    (problem,) = ruleset.problems
    assert "nosuchrule" in problem.reason
    assert [r.title for r in ruleset.rules] == ["Denied call"]  # not silenced by a broken rule


def test_references_resolve_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(DENIED)
    (tmp_path / "b.yml").write_text(EVENT_COUNT)
    ruleset = load_rules([tmp_path])
    assert ruleset.problems == [] and [r.title for r in ruleset.rules] == ["Correlated"]


def test_pack_correlation_rules_on_their_window_cases(lake: Lake, tmp_path: Path) -> None:
    """Pack correlation rules carry `correlation_cases` (fire / quiet) in their cases file."""
    rules = {r.id: r for r in load_pack().rules if r.correlation is not None}
    seen = 0
    for path in pack_files():
        doc = yaml.safe_load((DATA / "cases" / f"{path.stem}.yml").read_text())
        if doc["rule"] not in rules:
            continue
        expects = set()
        for case in doc["correlation_cases"]:
            events, _ = build_events(case["events"], "e")
            load_events(lake, events, tmp_path)
            findings, _ = evaluate(lake, [rules[doc["rule"]]])
            assert len(findings) == (1 if case["expect"] == "fire" else 0), case["name"]
            expects.add(case["expect"])
        assert expects == {"fire", "quiet"}, path.stem
        seen += 1
    assert seen == len(rules) >= 1
