"""Effective access: who can do the actions that matter, on which concrete resource, and why.

Computed through the evaluator with every policy that applies (identity, group, boundary, SCPs,
the resource's own policy) into `cwpp_iam_effective_access`: Allow rows, and ExplicitDeny rows
where an identity policy allows but a deny wins (so "who is stopped only by that SCP" is visible).
Bounded by the action index: a (principal, action) pair is evaluated only when an identity policy
could allow it, or when the resource's policy names the principal or everyone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from opencwpp.iam.access import ADMIN_PROBES, Access, statement_refs
from opencwpp.iam.estate import Estate, Principal, Target
from opencwpp.iam.model import DecisionKind
from opencwpp.lake import Lake
from opencwpp.lake.schema import JSON, Column, Table

ACTIONS_BY_KIND = {
    "s3": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
    "kms": ("kms:Decrypt",),
    "secretsmanager": ("secretsmanager:GetSecretValue",),
}
ACCOUNT_WIDE = (
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:PutUserPolicy",
    "iam:AttachUserPolicy",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "ec2:RunInstances",
    "lambda:CreateFunction",
    "ecs:RunTask",
    "codebuild:CreateProject",
    "glue:CreateJob",
    "sagemaker:CreateNotebookInstance",
    "cloudformation:CreateStack",
)
PASS_ROLE = "iam:PassRole"  # noqa: S105 - an action name
EVERYTHING = "*:*"
TABLE = Table(
    name="cwpp_iam_effective_access",
    columns=tuple(
        Column(*c) if isinstance(c, tuple) else Column(c)
        for c in (
            "principal_arn",
            "action",
            "resource_arn",
            "decision",
            ("via", JSON),
            "account_id",
        )
    ),
    primary_key=("principal_arn", "action", "resource_arn"),
    synced=False,
    description="Who can do the actions that matter, on what, and the deciding statements.",
)


@dataclass(frozen=True, slots=True)
class AccessRow:
    """One principal x action x resource decision and the statements that made it."""

    principal_arn: str
    action: str
    resource_arn: str
    decision: str
    via: list[dict[str, Any]]
    account_id: str
    reasons: tuple[str, ...] = ()

    def to_row(self) -> dict[str, Any]:
        """The lake row (the lake stores `via` as JSON)."""
        return {
            "principal_arn": self.principal_arn,
            "action": self.action,
            "resource_arn": self.resource_arn,
            "decision": self.decision,
            "via": self.via,
            "account_id": self.account_id,
        }


def _named(target_policy: dict[str, Any] | None, principal: Principal) -> bool:
    if target_policy is None:
        return False
    text = json.dumps(target_policy)
    return principal.arn in text or '"*"' in text


def _row(access: Access, p: Principal, action: str, resource: str, policy: Any) -> AccessRow | None:
    decision = access.decide(p, action, resource, resource_policy=policy)
    if decision.kind is DecisionKind.IMPLICIT_DENY:
        return None
    return AccessRow(
        p.arn,
        action,
        resource,
        decision.kind.value,
        statement_refs(p, decision),
        p.account_id,
        decision.reasons,
    )


def _pairs(estate: Estate) -> Iterator[tuple[str, Target]]:
    for target in estate.targets:
        for action in ACTIONS_BY_KIND.get(target.kind, ()):
            yield action, target
    for action in ACCOUNT_WIDE:
        yield action, Target("*", "account", "")
    for role in estate.roles():
        yield PASS_ROLE, Target(role.arn, "role", role.account_id)


def compute(estate: Estate) -> list[AccessRow]:
    """Every Allow / ExplicitDeny row over the estate's principals and concrete resources."""
    actions = {a for kind in ACTIONS_BY_KIND.values() for a in kind} | set(ACCOUNT_WIDE)
    access = Access(estate, actions | {PASS_ROLE})
    out: list[AccessRow] = []
    principals = list(estate.principals.values())
    for p in principals:
        if access.is_admin(p):
            decision = access.decide(p, ADMIN_PROBES[0], "*")
            refs = statement_refs(p, decision)
            out.append(AccessRow(p.arn, EVERYTHING, "*", "Allow", refs, p.account_id))
    for action, target in _pairs(estate):
        resource_policy = estate.policy_for(target.arn)
        policy = (resource_policy.arn, resource_policy.document) if resource_policy else None
        doc = dict(resource_policy.document) if resource_policy else None
        for p in principals:
            if access.covers(p, (action,)) or _named(doc, p):
                row = _row(access, p, action, target.arn, policy)
                if row is not None:
                    out.append(row)
    return out


def save(lake: Lake, rows: Iterable[AccessRow]) -> int:
    """Replaces the table's content with these rows (one transaction)."""
    lake.ensure_tables([TABLE])
    with lake.transaction():
        lake.execute(f'DELETE FROM "{TABLE.name}"')
        return lake.insert_rows(TABLE, [r.to_row() for r in rows])


def who_can(estate: Estate, action: str, resource: str) -> list[AccessRow]:
    """Evaluated now: every principal allowed (or explicitly denied) the action on the resource."""
    access = Access(estate, (action,))
    policy_doc = estate.policy_for(resource)
    policy = (policy_doc.arn, policy_doc.document) if policy_doc else None
    rows = [_row(access, p, action, resource, policy) for p in estate.principals.values()]
    return [r for r in rows if r is not None]


def who_can_stored(lake: Lake, action: str, resource: str) -> list[AccessRow]:
    """The stored rows for an action on a resource (action compared case-insensitively)."""
    if not lake.table_exists(TABLE.name):
        return []
    sql = (
        f'SELECT principal_arn, action, resource_arn, decision, via, account_id FROM "{TABLE.name}"'
        " WHERE lower(action) = lower(?) AND resource_arn = ? ORDER BY principal_arn"
    )
    out = []
    for row in lake.query(sql, [action, resource]):
        parsed = row["via"]
        while isinstance(parsed, str):  # DuckDB gives JSON text, PostgreSQL the value
            parsed = json.loads(parsed)
        out.append(
            AccessRow(
                str(row["principal_arn"]),
                str(row["action"]),
                str(row["resource_arn"]),
                str(row["decision"]),
                list(parsed or []),
                str(row["account_id"]),
            )
        )
    return out
