"""AWS Backup: vaults (encryption key, lock, access policy) and backup plans with selections.

A vault's access policy is kept in `access_policy` and split into statement rows
(`policies.split_policy`), so the public-policy view judges it like any resource policy.
Selections are their own resource: a missing `ListBackupSelections` permission (or an emulator
without it) leaves the plans assessed. CloudQuery derives a selection's `_cq_id` from the plan
ARN and version only, which two selections of one plan share; the selection id is added to the
hash so that each selection keeps its own row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, parse_document, split_policy
from opencwpp.collect.base import (
    Resource,
    Row,
    Rows,
    SessionContext,
    optional,
    paginate,
    register,
    strip_metadata,
)
from opencwpp.lake.schema import cq_id, table

VAULTS = table(
    "aws_backup_vaults",
    columns(
        """
        account_id region arn access_policy:json notifications:json tags:json backup_vault_arn
        backup_vault_name creation_date:ts creator_request_id encryption_key_arn lock_date:ts
        locked:bool max_retention_days:int min_retention_days:int number_of_recovery_points:int
        """
    ),
    cq_id_from=["arn"],
)
PLANS = table(
    "aws_backup_plans",
    columns(
        """
        account_id region arn tags:json advanced_backup_settings:json backup_plan:json
        backup_plan_arn backup_plan_id creation_date:ts creator_request_id deletion_date:ts
        last_execution_date:ts version_id
        """
    ),
    cq_id_from=["arn", "version_id"],
)
SELECTIONS = table(
    "aws_backup_plan_selections",
    columns(
        """
        account_id region plan_arn plan_version_id backup_plan_id backup_selection:json
        creation_date:ts creator_request_id selection_id
        """
    ),
    cq_id_from=["plan_arn", "plan_version_id"],
    parent="aws_backup_plans",
)
VAULT_TABLES = (VAULTS, *POLICY_TABLES)
_ABSENT = frozenset({"ResourceNotFoundException"})


def transform_vault(
    account_id: str,
    region: str,
    vault: Mapping[str, Any],
    policy: str | None,
    notifications: Mapping[str, Any] | None,
    tags: Mapping[str, str] | None,
) -> Rows:
    """The vault row (its access policy parsed) and the policy's statement rows."""
    vault_arn = str(vault["BackupVaultArn"])
    row = shape(
        VAULTS,
        vault,
        account_id=account_id,
        region=region,
        arn=vault_arn,
        access_policy=parse_document(policy) if policy else None,
        notifications=dict(notifications) if notifications else None,
        tags=dict(tags or {}),
    )
    out = empty(VAULT_TABLES)
    out[VAULTS].append(with_ids(VAULTS, row))
    if policy:
        extend(
            out,
            split_policy(
                policy, account_id=account_id, source_table=VAULTS.name, source_arn=vault_arn
            ),
        )
    return out


def fetch_vaults(ctx: SessionContext, region: str | None) -> Rows:
    """Every backup vault of one region with its access policy, notifications and tags."""
    region = need_region("backup.vaults", region)
    backup = ctx.client("backup", region)
    out = empty(VAULT_TABLES)
    for vault in paginate(backup, "list_backup_vaults", "BackupVaultList"):
        name = vault["BackupVaultName"]
        policy = optional(
            backup.get_backup_vault_access_policy, absent=_ABSENT, BackupVaultName=name
        )
        notes = optional(
            backup.get_backup_vault_notifications, absent=_ABSENT, BackupVaultName=name
        )
        notifications = strip_metadata(notes) if notes else None
        tags = backup.list_tags(ResourceArn=vault["BackupVaultArn"]).get("Tags")
        text = (policy or {}).get("Policy")
        extend(out, transform_vault(ctx.account_id, region, vault, text, notifications, tags))
    return out


def transform_plan(
    account_id: str,
    region: str,
    listed: Mapping[str, Any],
    plan: Mapping[str, Any],
    tags: Mapping[str, str] | None,
) -> Rows:
    """The row of one backup plan (its listing entry merged with GetBackupPlan's answer)."""
    merged = {**listed, **plan}
    row = shape(
        PLANS,
        merged,
        account_id=account_id,
        region=region,
        arn=merged["BackupPlanArn"],
        tags=dict(tags or {}),
    )
    return {PLANS: [with_ids(PLANS, row)]}


def fetch_plans(ctx: SessionContext, region: str | None) -> Rows:
    """Every backup plan of one region (its current version) with its rules and tags."""
    region = need_region("backup.plans", region)
    backup = ctx.client("backup", region)
    out = empty([PLANS])
    for listed in paginate(backup, "list_backup_plans", "BackupPlansList"):
        plan = optional(backup.get_backup_plan, absent=_ABSENT, BackupPlanId=listed["BackupPlanId"])
        if plan is None:
            continue  # deleted since the listing
        tags = backup.list_tags(ResourceArn=listed["BackupPlanArn"]).get("Tags")
        extend(out, transform_plan(ctx.account_id, region, listed, strip_metadata(plan), tags))
    return out


def transform_selections(
    account_id: str, region: str, plan: Mapping[str, Any], selections: Iterable[Mapping[str, Any]]
) -> Rows:
    """One row per selection of a plan; the parent id is the plan row's deterministic id."""
    keys = {"arn": plan["BackupPlanArn"], "version_id": plan.get("VersionId")}
    parent: Row = {"_cq_id": cq_id(keys, PLANS.cq_id_from)}
    rows: list[Row] = []
    for selection in selections:
        row = shape(
            SELECTIONS,
            selection,
            account_id=account_id,
            region=region,
            plan_arn=plan["BackupPlanArn"],
            plan_version_id=plan.get("VersionId"),
        )
        row["_cq_parent_id"] = parent["_cq_id"]
        row["_cq_id"] = cq_id(row, (*SELECTIONS.cq_id_from, "selection_id"))
        rows.append(row)
    return {SELECTIONS: rows}


def fetch_selections(ctx: SessionContext, region: str | None) -> Rows:
    """The resource selections of every backup plan of one region."""
    region = need_region("backup.plan_selections", region)
    backup = ctx.client("backup", region)
    out = empty([SELECTIONS])
    for plan in paginate(backup, "list_backup_plans", "BackupPlansList"):
        plan_id = plan["BackupPlanId"]
        found: list[dict[str, Any]] = []
        listed = paginate(
            backup, "list_backup_selections", "BackupSelectionsList", BackupPlanId=plan_id
        )
        for item in listed:
            answer = optional(
                backup.get_backup_selection,
                absent=_ABSENT,
                BackupPlanId=plan_id,
                SelectionId=item["SelectionId"],
            )
            if answer is not None:
                found.append(strip_metadata(answer))
        extend(out, transform_selections(ctx.account_id, region, plan, found))
    return out


register(
    Resource(
        name="backup.vaults",
        service="backup",
        tables=VAULT_TABLES,
        permissions=(
            "backup:ListBackupVaults",
            "backup:GetBackupVaultAccessPolicy",
            "backup:GetBackupVaultNotifications",
            "backup:ListTags",
        ),
        fetch=fetch_vaults,
        description="Backup vaults: encryption key, vault lock, access policy.",
    )
)
register(
    Resource(
        name="backup.plans",
        service="backup",
        tables=(PLANS,),
        permissions=("backup:ListBackupPlans", "backup:GetBackupPlan", "backup:ListTags"),
        fetch=fetch_plans,
        description="Backup plans and their rules (schedules, target vaults, retention).",
    )
)
register(
    Resource(
        name="backup.plan_selections",
        service="backup",
        tables=(SELECTIONS,),
        permissions=(
            "backup:ListBackupPlans",
            "backup:ListBackupSelections",
            "backup:GetBackupSelection",
        ),
        fetch=fetch_selections,
        description="Which resources each backup plan selects.",
    )
)
