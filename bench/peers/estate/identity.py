"""One scale unit's identities and keys: IAM users, policies, groups and roles, KMS keys."""

from __future__ import annotations

import json
from typing import Any

from bench.peers.estate._base import FOREIGN_ACCOUNT, Estate, doc, res, unit_prefix

AWS_ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
# ReadOnlyAccess lists two actions twice, which opencwpp's policy splitter does not survive
# yet (see README): the auditors get SecurityAudit, just as realistic.
AWS_READ_ONLY = "arn:aws:iam::aws:policy/SecurityAudit"
FULL = "iam_policy_full_admin"
PRIVESC = "iam_policy_privilege_escalation"
ADMIN_USER = "iam_user_with_admin_privileges"
NO_MFA = "iam_console_user_without_mfa"
TWO_KEYS = "iam_user_two_active_access_keys"


def _user(e: Estate, name: str) -> Any:
    user = e.client("iam", e.regions[0]).create_user(UserName=name)["User"]
    e.made()
    return res("iam_user", user["Arn"], name, "", user["UserId"])


def _policy(e: Estate, name: str, *statements: dict[str, Any]) -> Any:
    policy = e.client("iam", e.regions[0]).create_policy(
        PolicyName=name, PolicyDocument=doc(*statements)
    )["Policy"]
    e.made()
    return res("iam_policy", policy["Arn"], name, "", policy["PolicyId"])


def users(e: Estate, unit: int) -> None:
    """Console users with and without MFA, key holders, direct and group admins, a reader."""
    p, iam = unit_prefix(unit), e.client("iam", e.regions[0])
    password = "Bench-Passw0rd-" + p  # emulator only

    r = _user(e, f"{p}-console-no-mfa")
    iam.create_login_profile(UserName=r.name, Password=password)
    e.bad(NO_MFA, r)
    e.good(ADMIN_USER, r)
    r = _user(e, f"{p}-console-mfa")
    iam.create_login_profile(UserName=r.name, Password=password)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=r.name)["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName=r.name,
        SerialNumber=serial["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    e.good(NO_MFA, r)
    r = _user(e, f"{p}-api-only")
    iam.create_access_key(UserName=r.name)
    spare = iam.create_access_key(UserName=r.name)["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName=r.name, AccessKeyId=spare, Status="Inactive")
    e.good(NO_MFA, r, "no console password: MFA for the console does not apply")
    e.good(TWO_KEYS, r, "second key is inactive")
    r = _user(e, f"{p}-two-keys")
    for _ in range(2):
        iam.create_access_key(UserName=r.name)
    e.bad(TWO_KEYS, r)
    r = _user(e, f"{p}-admin")
    iam.attach_user_policy(UserName=r.name, PolicyArn=AWS_ADMIN)
    e.bad(ADMIN_USER, r, "AdministratorAccess attached directly")
    r = _user(e, f"{p}-auditor")
    iam.attach_user_policy(UserName=r.name, PolicyArn=AWS_READ_ONLY)
    e.good(ADMIN_USER, r, "SecurityAudit only")

    group = f"{p}-developers"
    arn = iam.create_group(GroupName=group)["Group"]["Arn"]
    iam.put_group_policy(
        GroupName=group,
        PolicyName=f"{group}-everything",
        PolicyDocument=doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )
    e.made()
    e.bad(FULL, res("iam_group", arn, group, "", f"{group}-everything"), "inline Allow * on *")
    r = _user(e, f"{p}-developer")
    iam.add_user_to_group(GroupName=group, UserName=r.name)
    e.bad(ADMIN_USER, r, "admin through the developers group's inline policy")


def policies_and_roles(e: Estate, unit: int) -> None:
    """Admin and escalation-prone policies and their scoped near-misses; cross-account roles."""
    p, iam = unit_prefix(unit), e.client("iam", e.regions[0])
    region = e.region(unit, 0)
    trust_lambda = doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    exec_role = iam.create_role(RoleName=f"{p}-fn-exec", AssumeRolePolicyDocument=trust_lambda)
    e.made()
    exec_arn = exec_role["Role"]["Arn"]
    logs = _policy(
        e,
        f"{p}-fn-logs",
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{region}:{e.account}:log-group:/aws/lambda/{p}-*",
        },
    )
    iam.attach_role_policy(RoleName=f"{p}-fn-exec", PolicyArn=logs.uid)
    e.role_arns[unit] = exec_arn

    admin = _policy(e, f"{p}-full-admin", {"Effect": "Allow", "Action": "*", "Resource": "*"})
    e.bad(FULL, admin)
    e.good(PRIVESC, logs, "writes its own log streams only")
    trust_ec2 = doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    iam.create_role(RoleName=f"{p}-deploy", AssumeRolePolicyDocument=trust_ec2)
    iam.attach_role_policy(RoleName=f"{p}-deploy", PolicyArn=admin.uid)
    e.made()
    bucket = f"arn:aws:s3:::{p}-hardened"
    scoped = _policy(
        e,
        f"{p}-one-bucket-all-actions",
        {"Effect": "Allow", "Action": "s3:*", "Resource": [bucket, f"{bucket}/*"]},
    )
    e.good(FULL, scoped, "every S3 action on one bucket is not administrator access")
    guard = _policy(
        e,
        f"{p}-region-guardrail",
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(e.regions)}},
        },
    )
    e.good(FULL, guard, "a Deny of everything outside two regions grants nothing")
    e.good(PRIVESC, guard)
    versions = _policy(
        e,
        f"{p}-policy-editor",
        {
            "Effect": "Allow",
            "Action": ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
            "Resource": "*",
        },
    )
    e.bad(PRIVESC, versions, "can rewrite any managed policy, its own included")
    passrole = _policy(
        e,
        f"{p}-lambda-deployer",
        {
            "Effect": "Allow",
            "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
            "Resource": "*",
        },
    )
    e.bad(PRIVESC, passrole, "can pass any role, administrators' included, to code it runs")
    narrow = _policy(
        e,
        f"{p}-lambda-deployer-scoped",
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": exec_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        },
        {
            "Effect": "Allow",
            "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"],
            "Resource": f"arn:aws:lambda:{region}:{e.account}:function:{p}-*",
        },
    )
    e.good(PRIVESC, narrow, "can only pass the logs-only execution role")
    iam.attach_user_policy(UserName=f"{p}-api-only", PolicyArn=versions.uid)
    iam.attach_user_policy(UserName=f"{p}-auditor", PolicyArn=narrow.uid)
    iam.attach_group_policy(GroupName=f"{p}-developers", PolicyArn=passrole.uid)
    iam.attach_group_policy(GroupName=f"{p}-developers", PolicyArn=guard.uid)
    iam.attach_user_policy(UserName=f"{p}-console-mfa", PolicyArn=scoped.uid)

    for suffix, condition in (
        ("partner-audit", None),
        ("partner-audit-extid", {"StringEquals": {"sts:ExternalId": f"bench-{p}-3f9c"}}),
    ):
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
        if condition:
            statement["Condition"] = condition
        name = f"{p}-{suffix}"
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc(statement))["Role"]
        iam.attach_role_policy(RoleName=name, PolicyArn=AWS_READ_ONLY)
        e.made()
        r = res("iam_role", role["Arn"], name, "", role["RoleId"])
        kind = "iam_role_cross_account_trust_unconditioned"
        (e.good if condition else e.bad)(kind, r)


def _key_policy(account: str, extra: dict[str, Any] | None) -> str:
    root = {
        "Sid": "Owner",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *([extra] if extra else [])]})


def kms_keys(e: Estate, unit: int) -> None:
    """Five keys: without rotation, rotated, asymmetric, public by policy, pinned to a service."""
    p, region = unit_prefix(unit), e.region(unit, 0)
    kms = e.client("kms", region)
    use = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"]
    public = {
        "Sid": "Everyone",
        "Effect": "Allow",
        "Principal": "*",
        "Action": use,
        "Resource": "*",
    }
    via = dict(
        public,
        Sid="ViaS3InAccount",
        Condition={
            "StringEquals": {
                "kms:CallerAccount": e.account,
                "kms:ViaService": f"s3.{region}.amazonaws.com",
            }
        },
    )
    rot, pub = "kms_key_rotation_disabled", "kms_key_policy_public"
    for role, spec, rotate, extra in (
        ("no-rotation", "SYMMETRIC_DEFAULT", False, None),
        ("rotated", "SYMMETRIC_DEFAULT", True, None),
        ("signing", "RSA_2048", False, None),
        ("public", "SYMMETRIC_DEFAULT", True, public),
        ("via-s3", "SYMMETRIC_DEFAULT", True, via),
    ):
        usage = "SIGN_VERIFY" if spec.startswith("RSA") else "ENCRYPT_DECRYPT"
        meta = kms.create_key(
            Description=f"{p} {role}",
            KeySpec=spec,
            KeyUsage=usage,
            Policy=_key_policy(e.account, extra),
        )["KeyMetadata"]
        kms.create_alias(AliasName=f"alias/{p}-{role}", TargetKeyId=meta["KeyId"])
        if rotate:
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        e.made()
        r = res("kms_key", meta["Arn"], f"alias/{p}-{role}", region, meta["KeyId"])
        if role == "signing":
            e.good(rot, r, "asymmetric keys cannot rotate automatically")
        else:
            (e.good if rotate else e.bad)(rot, r)
        if role == "public":
            e.bad(pub, r)
        elif role == "via-s3":
            e.good(pub, r, "only this account's callers, only through S3")
        if role == "rotated":
            e.key_arns[unit] = meta["Arn"]
