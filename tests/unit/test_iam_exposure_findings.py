"""Exposure findings per policy type: public and cross-account fire; condition-restricted,
trusted-account and same-Organization grants stay quiet."""

from __future__ import annotations

from typing import Any

import pytest

from opencwpp.iam.estate import Estate, Principal, ResourcePolicy
from opencwpp.iam.exposure_findings import CROSS_ACCOUNT, PUBLIC, exposure_findings

A, B = "111122223333", "444455556666"
RESOURCES = {
    "s3": ("arn:aws:s3:::bkt", "s3:GetObject", "arn:aws:s3:::bkt/*"),
    "kms": (f"arn:aws:kms:eu-west-1:{A}:key/k1", "kms:Decrypt", "*"),
    "sqs": (f"arn:aws:sqs:eu-west-1:{A}:q", "sqs:SendMessage", "*"),
    "sns": (f"arn:aws:sns:eu-west-1:{A}:t", "sns:Publish", "*"),
    "secretsmanager": (
        f"arn:aws:secretsmanager:eu-west-1:{A}:secret:s",
        "secretsmanager:GetSecretValue",
        "*",
    ),
    "lambda": (f"arn:aws:lambda:eu-west-1:{A}:function:f", "lambda:InvokeFunction", "*"),
    "ecr": (f"arn:aws:ecr:eu-west-1:{A}:repository/r", "ecr:BatchGetImage", "*"),
    "efs": (
        f"arn:aws:elasticfilesystem:eu-west-1:{A}:file-system/fs-1",
        "elasticfilesystem:ClientMount",
        "*",
    ),
}


def _estate(kind: str, principal: Any, condition: dict[str, Any] | None = None) -> Estate:
    arn, action, resource = RESOURCES[kind]
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    statement["Resource"] = resource
    if condition:
        statement["Condition"] = condition
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    e = Estate()
    e.resources[arn] = ResourcePolicy(arn, kind, A, "eu-west-1", doc)
    return e


def _checks(e: Estate, **kwargs: Any) -> set[str]:
    return {f.check_id for f in exposure_findings(e, **kwargs)}


@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_public_policy_fires(kind: str) -> None:
    found = exposure_findings(_estate(kind, "*"))
    assert {f.check_id for f in found} == {PUBLIC}
    assert RESOURCES[kind][1] in found[0].status_reason


@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_org_restricted_policy_stays_quiet(kind: str) -> None:
    org = {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    assert _checks(_estate(kind, "*", org)) == set()


@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_cross_account_fires_unless_trusted_or_same_org(kind: str) -> None:
    e = _estate(kind, {"AWS": f"arn:aws:iam::{B}:root"})
    assert _checks(e) == {CROSS_ACCOUNT}
    assert _checks(e, trusted_accounts=[B]) == set()
    assert _checks(e, org_accounts=[B]) == set()


def test_role_trust_to_everyone_and_to_a_service() -> None:
    e = Estate()
    for name, principal in (("open", {"AWS": "*"}), ("svc", {"Service": "ec2.amazonaws.com"})):
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
        arn = f"arn:aws:iam::{A}:role/{name}"
        e.principals[arn] = Principal(arn, "role", A, name, trust=trust)
    found = exposure_findings(e)
    assert [(f.check_id, f.resource.name) for f in found] == [(PUBLIC, "open")]
    assert found[0].severity.value == "critical"
