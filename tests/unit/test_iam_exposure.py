"""Exposure: who outside can do what, judged by evaluating the policy, conditions included."""

from __future__ import annotations

from typing import Any

from opencwpp.iam.exposure import foreign_access, is_public

A, B = "111122223333", "444455556666"
BUCKET = "arn:aws:s3:::data"
OBJECTS = "arn:aws:s3:::data/*"
OBJ = "arn:aws:s3:::data/k"
KEY = f"arn:aws:kms:eu-west-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{A}:role/Target"
QUEUE = f"arn:aws:sqs:eu-west-1:{A}:q"
TOPIC = f"arn:aws:sns:eu-west-1:{A}:t"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal: Any, action: Any, resource: Any = None, **condition: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if resource:
        stmt["Resource"] = resource
    if condition:
        stmt["Condition"] = condition
    return stmt


def whos(found: list[Any]) -> dict[str, tuple[str, ...]]:
    return {a.who: a.actions for a in found}


def test_s3_public_read_is_public_to_anonymous() -> None:
    found = whos(is_public(doc(allow("*", "s3:GetObject", OBJECTS)), OBJ, A))
    assert "s3:GetObject" in found["anyone (anonymous)"]
    assert "s3:PutObject" not in found["anyone (anonymous)"]


def test_s3_star_restricted_by_org_id_is_not_public() -> None:
    policy = doc(
        allow("*", "s3:GetObject", OBJECTS, StringEquals={"aws:PrincipalOrgID": "o-a1b2c3d4e5"})
    )
    assert is_public(policy, OBJ, A) == []
    assert foreign_access(policy, OBJ, A) == []


def test_s3_star_restricted_by_vpce_deny_is_not_public() -> None:
    policy = doc(
        allow("*", "s3:GetObject", OBJECTS),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [BUCKET, OBJECTS],
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        },
    )
    assert is_public(policy, OBJ, A) == []


def test_s3_tls_condition_does_not_restrict_who() -> None:
    policy = doc(
        allow("*", "s3:GetObject", OBJECTS, Bool={"aws:SecureTransport": "true"}),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": OBJECTS,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    assert "anyone (anonymous)" in whos(is_public(policy, OBJ, A))


def test_s3_cross_account_grant_names_the_account_unless_trusted() -> None:
    policy = doc(allow({"AWS": f"arn:aws:iam::{B}:root"}, ["s3:GetObject"], OBJECTS))
    assert whos(foreign_access(policy, OBJ, A)) == {f"account {B}": ("s3:GetObject",)}
    assert foreign_access(policy, OBJ, A, trusted_accounts=[B]) == []
    assert is_public(policy, OBJ, A) == []


def test_kms_default_key_policy_is_not_exposed() -> None:
    policy = doc(allow({"AWS": f"arn:aws:iam::{A}:root"}, "kms:*", "*"))
    assert foreign_access(policy, KEY, A) == []


def test_kms_star_principal_is_public_unless_caller_account_restricted() -> None:
    open_policy = doc(allow({"AWS": "*"}, ["kms:Decrypt", "kms:Encrypt"], "*"))
    assert "kms:Decrypt" in whos(is_public(open_policy, KEY, A))["any AWS account"]
    restricted = doc(
        allow({"AWS": "*"}, ["kms:Decrypt"], "*", StringEquals={"kms:CallerAccount": A})
    )
    assert is_public(restricted, KEY, A) == []


def test_role_trust_to_other_account_and_to_everyone() -> None:
    other = doc(
        allow(
            {"AWS": f"arn:aws:iam::{B}:root"},
            "sts:AssumeRole",
            StringEquals={"sts:ExternalId": "x-1"},
        )
    )
    assert whos(foreign_access(other, ROLE, A)) == {f"account {B}": ("sts:AssumeRole",)}
    everyone = doc(allow({"AWS": "*"}, "sts:AssumeRole"))
    assert whos(is_public(everyone, ROLE, A))["any AWS account"] == ("sts:AssumeRole",)


def test_role_trust_named_foreign_role_session() -> None:
    policy = doc(allow({"AWS": f"arn:aws:iam::{B}:role/Deployer"}, "sts:AssumeRole"))
    assert whos(foreign_access(policy, ROLE, A)) == {f"account {B}": ("sts:AssumeRole",)}


def test_role_trust_for_a_service_is_not_exposed() -> None:
    policy = doc(allow({"Service": "ec2.amazonaws.com"}, "sts:AssumeRole"))
    assert foreign_access(policy, ROLE, A) == []


def test_sqs_star_restricted_by_source_arn_is_not_public() -> None:
    policy = doc(
        allow(
            {"Service": "sns.amazonaws.com"},
            "sqs:SendMessage",
            QUEUE,
            ArnEquals={"aws:SourceArn": TOPIC},
        ),
        allow("*", "sqs:SendMessage", QUEUE, ArnEquals={"aws:SourceArn": TOPIC}),
    )
    assert is_public(policy, QUEUE, A) == []


def test_sqs_open_queue_is_public() -> None:
    policy = doc(allow("*", ["sqs:SendMessage", "sqs:ReceiveMessage"], QUEUE))
    found = whos(is_public(policy, QUEUE, A))
    assert set(found["any AWS account"]) == {"sqs:SendMessage", "sqs:ReceiveMessage"}


def test_sns_topic_restricted_by_source_account_is_not_public() -> None:
    policy = doc(allow("*", "sns:Publish", TOPIC, StringEquals={"aws:SourceAccount": A}))
    assert is_public(policy, TOPIC, A) == []
    open_topic = doc(allow("*", "sns:Publish", TOPIC))
    assert "sns:Publish" in whos(is_public(open_topic, TOPIC, A))["anyone (anonymous)"]
