"""Sigma semantics on both backends: case, `not` over a missing field, wildcards and escapes,
modifiers (all, re, cidr v4/v6, exists, null, base64, fieldref), keywords."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sigma.collection import SigmaCollection
from sigma.rule import SigmaRule

from opencwpp.detect.ingest import ingest, list_sources
from opencwpp.detect.sigma import compile_rule
from opencwpp.lake import Lake

EVENTS = [
    {
        "eventID": "upper",
        "eventName": "StopLogging",
        "sourceIPAddress": "10.1.2.3",
        "userAgent": "AWS-CLI/2.0 Python",
        "requestParameters": {"name": "trail_1*x"},
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/Bob", "userName": "bob"},
    },
    {
        "eventID": "lower",
        "eventName": "stoplogging",
        "sourceIPAddress": "2001:db8::1",
        "userAgent": "terraform/1.5",
        "requestParameters": {"name": "trail_1yx"},
        "errorCode": "AccessDenied",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/aws:ec2/i-1"},
    },
    {
        "eventID": "nouser",
        "eventName": "DeleteTrail",
        "sourceIPAddress": "192.0.2.9",
        "userAgent": "Mozilla SGVsbG8gV29ybGQ=",
        "userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
    },
]


@pytest.fixture
def events(lake: Lake, tmp_path: Path) -> Lake:
    rows = [
        {"eventTime": "2024-07-31T13:00:00Z", "eventSource": "cloudtrail.amazonaws.com", **e}
        for e in EVENTS
    ]
    (tmp_path / "e.json").write_text(json.dumps(rows))
    report = ingest(lake, list_sources([str(tmp_path / "e.json")]))
    assert report.inserted == 3
    return lake


def _matches(lake: Lake, detection: str) -> set[str]:
    text = (
        "title: t\nid: 1f2e3d4c-0000-4000-8000-000000000001\nlevel: high\n"
        "logsource: {product: aws, service: cloudtrail}\ndetection:\n" + detection
    )
    rule = SigmaCollection.from_yaml(text).rules[0]
    assert isinstance(rule, SigmaRule)
    where = compile_rule(rule).where
    return {
        r["event_id"]
        for r in lake.query(f"SELECT event_id FROM aws_cloudtrail_events WHERE {where}")
    }


CASES = [
    ("case-insensitive", "  s: {eventName: STOPLOGGING}\n  condition: s", {"upper", "lower"}),
    ("cased", "  s: {eventName|cased: StopLogging}\n  condition: s", {"upper"}),
    (
        "not over missing field keeps event",
        "  s: {eventSource: cloudtrail.amazonaws.com}\n  f: {userIdentity.userName: bob}\n"
        "  condition: s and not f",
        {"lower", "nouser"},
    ),
    (
        "not over missing typed column",
        "  s: {eventSource: cloudtrail.amazonaws.com}\n  f: {errorCode: AccessDenied}\n"
        "  condition: s and not f",
        {"upper", "nouser"},
    ),
    ("wildcards", "  s: {userAgent: 'aws-cli/*'}\n  condition: s", {"upper"}),
    (
        "single-char wildcard",
        "  s: {requestParameters.name: 'trail?1?x'}\n  condition: s",
        {"upper", "lower"},
    ),
    (
        "escaped star is literal",
        "  s: {requestParameters.name: 'trail_1\\*x'}\n  condition: s",
        {"upper"},
    ),
    (
        "underscore is not a LIKE wildcard",
        "  s: {requestParameters.name|startswith: 'trail_'}\n  condition: s",
        {"upper", "lower"},
    ),
    (
        "contains all",
        "  s:\n    userAgent|contains|all: [aws-cli, python]\n  condition: s",
        {"upper"},
    ),
    (
        "endswith list is OR",
        "  s:\n    userAgent|endswith: ['python', '1.5']\n  condition: s",
        {"upper", "lower"},
    ),
    ("re is case-sensitive", "  s: {userIdentity.arn|re: ':user/bob$'}\n  condition: s", set()),
    ("re|i", "  s: {userIdentity.arn|re|i: ':user/bob$'}\n  condition: s", {"upper"}),
    ("cidr v4", "  s: {sourceIPAddress|cidr: 10.0.0.0/8}\n  condition: s", {"upper"}),
    ("cidr v6", "  s: {sourceIPAddress|cidr: '2001:db8::/32'}\n  condition: s", {"lower"}),
    ("null is absent", "  s: {userIdentity.arn: null}\n  condition: s", {"nouser"}),
    ("exists", "  s: {errorCode|exists: true}\n  condition: s", {"lower"}),
    ("base64", "  s: {userAgent|base64|contains: 'Hello World'}\n  condition: s", {"nouser"}),
    ("base64offset", "  s: {userAgent|base64offset|contains: 'World'}\n  condition: s", {"nouser"}),
    (
        "fieldref",
        "  s: {userIdentity.userName|fieldref: userIdentity.userName}\n  condition: s",
        {"upper"},
    ),
    ("keyword searches the raw record", "  k: ['*i-1*']\n  condition: k", {"lower"}),
    (
        "1 of with json path",
        "  s1: {userIdentity.type: awsservice}\n"
        "  s2: {requestParameters.name: TRAIL_1YX}\n  condition: 1 of s*",
        {"lower", "nouser"},
    ),
    ("quote in value is data", "  s: {eventName: \"x' OR '1'='1\"}\n  condition: s", set()),
]


@pytest.mark.parametrize(("name", "detection", "expected"), CASES, ids=[c[0] for c in CASES])
def test_sigma_semantics(events: Lake, name: str, detection: str, expected: set[str]) -> None:
    assert _matches(events, detection) == expected, name
