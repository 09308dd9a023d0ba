"""IAM groups and roles, with their attached and inline policy documents."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from opencwpp.collect.aws.policies import POLICY_TABLES, split_policy
from opencwpp.collect.base import (
    Resource,
    Row,
    Rows,
    SessionContext,
    pages,
    paginate,
    policy_document,
    register,
    tags_dict,
)
from opencwpp.lake.schema import INT64, JSON, TIMESTAMP, Table, cq_id, table

GROUPS = table(
    "aws_iam_groups",
    ["account_id", "arn", ("create_date", TIMESTAMP), "group_id", "group_name", "path"],
    cq_id_from=["account_id", "arn"],
)
GROUP_ATTACHED = table(
    "aws_iam_group_attached_policies",
    ["account_id", "group_arn", "policy_arn", "policy_name"],
    cq_id_from=["account_id", "group_arn", "policy_arn"],
    parent="aws_iam_groups",
)
GROUP_INLINE = table(
    "aws_iam_group_policies",
    ["account_id", "group_arn", ("policy_document", JSON), "group_name", "policy_name"],
    cq_id_from=["account_id", "group_arn", "policy_name"],
    parent="aws_iam_groups",
)
ROLES = table(
    "aws_iam_roles",
    [
        "account_id",
        ("assume_role_policy_document", JSON),
        ("tags", JSON),
        "arn",
        ("create_date", TIMESTAMP),
        "path",
        "role_id",
        "role_name",
        "description",
        ("max_session_duration", INT64),
        ("permissions_boundary", JSON),
        ("role_last_used", JSON),
    ],
    cq_id_from=["account_id", "arn"],
)
ROLE_ATTACHED = table(
    "aws_iam_role_attached_policies",
    ["account_id", "role_arn", "policy_arn", "policy_name"],
    cq_id_from=["account_id", "role_arn", "policy_arn"],
    parent="aws_iam_roles",
)
ROLE_INLINE = table(
    "aws_iam_role_policies",
    ["account_id", "role_arn", ("policy_document", JSON), "policy_name", "role_name"],
    cq_id_from=["account_id", "role_arn", "policy_name"],
    parent="aws_iam_roles",
)
GROUP_TABLES = (GROUPS, GROUP_ATTACHED, GROUP_INLINE)
ROLE_TABLES = (ROLES, ROLE_ATTACHED, ROLE_INLINE)


def empty_rows(tables: tuple[Table, ...]) -> Rows:
    """An empty row set for the tables and the policy statement tables."""
    return {t: [] for t in (*tables, *POLICY_TABLES)}


def add_split(out: Rows, document: Any, **kwargs: Any) -> None:
    """Adds the statement rows of one policy document to `out`."""
    for tbl, rows in split_policy(document, **kwargs).items():
        out[tbl].extend(rows)


def transform_principal(
    account_id: str,
    kind: str,
    entity: Mapping[str, Any],
    attached: list[Mapping[str, Any]],
    inline: Mapping[str, Any],
) -> Rows:
    """Rows of one group (`kind='group'`) or role (`kind='role'`) and its policies."""
    parent_tbl, attached_tbl, inline_tbl = GROUP_TABLES if kind == "group" else ROLE_TABLES
    arn = str(entity["Arn"])
    name = entity.get("GroupName") if kind == "group" else entity.get("RoleName")
    parent: Row = {"account_id": account_id, "arn": arn, "create_date": entity.get("CreateDate")}
    parent["path"] = entity.get("Path")
    if kind == "group":
        parent.update(group_id=entity.get("GroupId"), group_name=name)
    else:
        parent.update(
            role_id=entity.get("RoleId"),
            role_name=name,
            description=entity.get("Description"),
            max_session_duration=entity.get("MaxSessionDuration"),
            permissions_boundary=entity.get("PermissionsBoundary"),
            role_last_used=entity.get("RoleLastUsed"),
            tags=tags_dict(entity.get("Tags")),
            assume_role_policy_document=policy_document(entity.get("AssumeRolePolicyDocument")),
        )
    parent["_cq_id"] = cq_id(parent, parent_tbl.cq_id_from)
    who = {"_cq_parent_id": parent["_cq_id"], "account_id": account_id, f"{kind}_arn": arn}
    out = empty_rows((parent_tbl, attached_tbl, inline_tbl))
    out[parent_tbl].append(parent)
    if kind == "role":
        # The trust policy too, so checks judge who may assume the role without walking JSON.
        add_split(
            out,
            parent["assume_role_policy_document"],
            account_id=account_id,
            source_table=parent_tbl.name,
            source_arn=arn,
            policy_name="AssumeRolePolicyDocument",
        )
    for policy in attached:
        out[attached_tbl].append(
            {**who, "policy_arn": policy.get("PolicyArn"), "policy_name": policy.get("PolicyName")}
        )
    for policy_name, document in inline.items():
        doc = policy_document(document)
        out[inline_tbl].append(
            {**who, "policy_document": doc, "policy_name": policy_name, f"{kind}_name": name}
        )
        add_split(
            out,
            doc,
            account_id=account_id,
            source_table=inline_tbl.name,
            source_arn=arn,
            policy_name=policy_name,
        )
    return out


def merge(out: Rows, rows: Rows) -> None:
    """Appends every table's rows of `rows` to `out`."""
    for tbl, items in rows.items():
        out[tbl].extend(items)


def fetch_groups(ctx: SessionContext, region: str | None) -> Rows:
    """Every IAM group with its attached and inline policies."""
    del region
    iam = ctx.client("iam")
    out = empty_rows(GROUP_TABLES)
    for group in paginate(iam, "list_groups", "Groups"):
        name = group["GroupName"]
        attached = paginate(iam, "list_attached_group_policies", "AttachedPolicies", GroupName=name)
        inline = {
            p: iam.get_group_policy(GroupName=name, PolicyName=p).get("PolicyDocument")
            for p in paginate(iam, "list_group_policies", "PolicyNames", GroupName=name)
        }
        merge(out, transform_principal(ctx.account_id, "group", group, attached, inline))
    return out


def fetch_roles(ctx: SessionContext, region: str | None) -> Iterator[Rows]:
    """Every IAM role with its trust, attached and inline policies, a page at a time."""
    del region
    iam = ctx.client("iam")
    for page in pages(iam, "list_roles", "Roles"):
        out = empty_rows(ROLE_TABLES)
        for listed in page:
            name = listed["RoleName"]
            role = iam.get_role(RoleName=name).get("Role", listed)
            attached = paginate(
                iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name
            )
            inline = {
                p: iam.get_role_policy(RoleName=name, PolicyName=p).get("PolicyDocument")
                for p in paginate(iam, "list_role_policies", "PolicyNames", RoleName=name)
            }
            merge(out, transform_principal(ctx.account_id, "role", role, attached, inline))
        yield out


register(
    Resource(
        name="iam.groups",
        tables=(*GROUP_TABLES, *POLICY_TABLES),
        permissions=(
            "iam:ListGroups",
            "iam:ListAttachedGroupPolicies",
            "iam:ListGroupPolicies",
            "iam:GetGroupPolicy",
        ),
        fetch=fetch_groups,
        description="IAM groups and their attached and inline policies.",
        service="iam",
        global_service=True,
    )
)
register(
    Resource(
        name="iam.roles",
        tables=(*ROLE_TABLES, *POLICY_TABLES),
        permissions=(
            "iam:ListRoles",
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:GetRolePolicy",
        ),
        fetch=fetch_roles,
        description="IAM roles, their trust policies, attached and inline policies.",
        service="iam",
        global_service=True,
    )
)
