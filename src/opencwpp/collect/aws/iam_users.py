"""IAM users and what hangs off them; the account's virtual MFA devices.

Per user: access keys (with last use), MFA devices, attached and inline policies, groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws.policies import POLICY_TABLES, split_policy
from opencwpp.collect.base import (
    Resource,
    Row,
    Rows,
    SessionContext,
    paginate,
    policy_document,
    register,
    tags_dict,
)
from opencwpp.lake.schema import JSON, TIMESTAMP, cq_id, table

USERS = table(
    "aws_iam_users",
    [
        "account_id",
        "arn",
        ("tags", JSON),
        ("create_date", TIMESTAMP),
        "path",
        "user_id",
        "user_name",
        ("password_last_used", TIMESTAMP),
        ("permissions_boundary", JSON),
    ],
    cq_id_from=["account_id", "arn"],
)
_CHILD = {"parent": "aws_iam_users"}
ACCESS_KEYS = table(
    "aws_iam_user_access_keys",
    [
        "account_id",
        "user_arn",
        "access_key_id",
        "user_id",
        ("last_used", TIMESTAMP),
        "last_used_service_name",
        ("create_date", TIMESTAMP),
        "status",
        "user_name",
        ("last_rotated", TIMESTAMP),
    ],
    cq_id_from=["account_id", "user_arn", "access_key_id"],
    **_CHILD,
)
MFA_DEVICES = table(
    "aws_iam_mfa_devices",
    ["account_id", "serial_number", ("enable_date", TIMESTAMP), "user_name"],
    cq_id_from=["serial_number"],
    **_CHILD,
)
ATTACHED_POLICIES = table(
    "aws_iam_user_attached_policies",
    ["account_id", "user_arn", "policy_name", "user_id", "policy_arn"],
    cq_id_from=["account_id", "user_arn", "policy_name"],
    **_CHILD,
)
INLINE_POLICIES = table(
    "aws_iam_user_policies",
    ["account_id", "user_arn", "user_id", ("policy_document", JSON), "policy_name", "user_name"],
    cq_id_from=["account_id", "user_arn", "policy_name"],
    **_CHILD,
)
USER_GROUPS = table(
    "aws_iam_user_groups",
    [
        "account_id",
        "user_arn",
        "user_id",
        "arn",
        ("create_date", TIMESTAMP),
        "group_id",
        "group_name",
        "path",
    ],
    cq_id_from=["account_id", "user_arn", "arn"],
    **_CHILD,
)
VIRTUAL_MFA_DEVICES = table(
    "aws_iam_virtual_mfa_devices",
    [
        "account_id",
        "serial_number",
        ("tags", JSON),
        ("base32_string_seed", "binary"),
        ("enable_date", TIMESTAMP),
        ("qr_code_png", "binary"),
        ("user", JSON),
    ],
    cq_id_from=["serial_number"],
)
USER_TABLES = (USERS, ACCESS_KEYS, MFA_DEVICES, ATTACHED_POLICIES, INLINE_POLICIES, USER_GROUPS)


def transform_user(account_id: str, user: Mapping[str, Any], details: Mapping[str, Any]) -> Rows:
    """All rows of one user from GetUser and the per-user List*/Get* responses."""
    arn = str(user["Arn"])
    parent: Row = {
        "account_id": account_id,
        "arn": arn,
        "tags": tags_dict(user.get("Tags")),
        "create_date": user.get("CreateDate"),
        "path": user.get("Path"),
        "user_id": user.get("UserId"),
        "user_name": user.get("UserName"),
        "password_last_used": user.get("PasswordLastUsed"),
        "permissions_boundary": user.get("PermissionsBoundary"),
    }
    parent["_cq_id"] = cq_id(parent, USERS.cq_id_from)
    who = {"_cq_parent_id": parent["_cq_id"], "account_id": account_id, "user_arn": arn}
    ids = {"user_id": user.get("UserId")}
    out: Rows = {t: [] for t in (*USER_TABLES, *POLICY_TABLES)}
    out[USERS].append(parent)
    for key in details.get("access_keys", []):
        used = key.get("LastUsed", {})
        out[ACCESS_KEYS].append(
            {
                **who,
                **ids,
                "access_key_id": key.get("AccessKeyId"),
                "last_used": used.get("LastUsedDate"),
                "last_used_service_name": _known(used.get("ServiceName")),
                "create_date": key.get("CreateDate"),
                "status": key.get("Status"),
                "user_name": key.get("UserName"),
                "last_rotated": key.get("CreateDate"),
            }
        )
    for device in details.get("mfa_devices", []):
        out[MFA_DEVICES].append(
            {
                "_cq_parent_id": parent["_cq_id"],
                "account_id": account_id,
                "serial_number": device.get("SerialNumber"),
                "enable_date": device.get("EnableDate"),
                "user_name": device.get("UserName"),
            }
        )
    for policy in details.get("attached_policies", []):
        out[ATTACHED_POLICIES].append(
            {
                **who,
                **ids,
                "policy_name": policy.get("PolicyName"),
                "policy_arn": policy.get("PolicyArn"),
            }
        )
    for name, document in details.get("inline_policies", {}).items():
        doc = policy_document(document)
        out[INLINE_POLICIES].append(
            {
                **who,
                **ids,
                "policy_document": doc,
                "policy_name": name,
                "user_name": user.get("UserName"),
            }
        )
        split = split_policy(
            doc,
            account_id=account_id,
            source_table=INLINE_POLICIES.name,
            source_arn=arn,
            policy_name=name,
        )
        for tbl, rows in split.items():
            out[tbl].extend(rows)
    for group in details.get("groups", []):
        out[USER_GROUPS].append(
            {
                **who,
                **ids,
                "arn": group.get("Arn"),
                "create_date": group.get("CreateDate"),
                "group_id": group.get("GroupId"),
                "group_name": group.get("GroupName"),
                "path": group.get("Path"),
            }
        )
    return out


def _known(value: Any) -> Any:
    """None for IAM's 'N/A' placeholder."""
    return None if value in (None, "", "N/A") else value


def _user_details(iam: Any, name: str) -> dict[str, Any]:
    keys = paginate(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
    for key in keys:
        last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        key["LastUsed"] = last.get("AccessKeyLastUsed", {})
    inline = {
        policy: iam.get_user_policy(UserName=name, PolicyName=policy).get("PolicyDocument")
        for policy in paginate(iam, "list_user_policies", "PolicyNames", UserName=name)
    }
    return {
        "access_keys": keys,
        "mfa_devices": paginate(iam, "list_mfa_devices", "MFADevices", UserName=name),
        "attached_policies": paginate(
            iam, "list_attached_user_policies", "AttachedPolicies", UserName=name
        ),
        "inline_policies": inline,
        "groups": paginate(iam, "list_groups_for_user", "Groups", UserName=name),
    }


def fetch_users(ctx: SessionContext, region: str | None) -> Rows:
    """Every IAM user with keys, MFA devices, policies and group memberships."""
    del region
    iam = ctx.client("iam")
    out: Rows = {t: [] for t in (*USER_TABLES, *POLICY_TABLES)}
    for listed in paginate(iam, "list_users", "Users"):
        user = iam.get_user(UserName=listed["UserName"]).get("User", listed)
        details = _user_details(iam, str(listed["UserName"]))
        for tbl, rows in transform_user(ctx.account_id, user, details).items():
            out[tbl].extend(rows)
    return out


def transform_virtual_mfa(account_id: str, device: Mapping[str, Any]) -> Row:
    """One virtual MFA device; the seed and QR code are secrets and are never stored."""
    return {
        "account_id": account_id,
        "serial_number": device.get("SerialNumber"),
        "tags": tags_dict(device.get("Tags")),
        "base32_string_seed": None,
        "enable_date": device.get("EnableDate"),
        "qr_code_png": None,
        "user": dict(device["User"]) if device.get("User") else None,
    }


def fetch_virtual_mfa(ctx: SessionContext, region: str | None) -> Rows:
    """Every virtual MFA device of the account (assigned or not)."""
    del region
    devices = paginate(ctx.client("iam"), "list_virtual_mfa_devices", "VirtualMFADevices")
    return {VIRTUAL_MFA_DEVICES: [transform_virtual_mfa(ctx.account_id, d) for d in devices]}


register(
    Resource(
        name="iam.users",
        service="iam",
        tables=(*USER_TABLES, *POLICY_TABLES),
        permissions=(
            "iam:ListUsers",
            "iam:GetUser",
            "iam:ListAccessKeys",
            "iam:GetAccessKeyLastUsed",
            "iam:ListMFADevices",
            "iam:ListAttachedUserPolicies",
            "iam:ListUserPolicies",
            "iam:GetUserPolicy",
            "iam:ListGroupsForUser",
        ),
        fetch=fetch_users,
        global_service=True,
        description="IAM users, their access keys, MFA devices, policies and groups.",
    )
)
register(
    Resource(
        name="iam.virtual_mfa_devices",
        service="iam",
        tables=(VIRTUAL_MFA_DEVICES,),
        permissions=("iam:ListVirtualMFADevices",),
        fetch=fetch_virtual_mfa,
        global_service=True,
        description="Virtual MFA devices (the root user's MFA shows here).",
    )
)
