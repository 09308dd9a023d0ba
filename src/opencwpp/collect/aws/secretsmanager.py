"""Secrets Manager: secret metadata and resource policies. Never a secret value.

Only ListSecrets and GetResourcePolicy are called: GetSecretValue is never used, and the
permissions declared say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, parse_document, split_policy
from opencwpp.collect.base import Resource, Rows, SessionContext, optional, paginate, register
from opencwpp.lake.schema import table

SECRETS = table(
    "aws_secretsmanager_secrets",
    columns(
        """
        account_id region arn policy:json tags:json created_date:ts deleted_date:ts description
        kms_key_id last_accessed_date:ts last_changed_date:ts last_rotated_date:ts name
        next_rotation_date:ts owning_service primary_region replication_status:json
        rotation_enabled:bool rotation_lambda_arn rotation_rules:json version_ids_to_stages:json
        """
    ),
    cq_id_from=["arn"],
)
_GONE = frozenset({"ResourceNotFoundException"})


def transform_secret(
    account_id: str, region: str, secret: Mapping[str, Any], policy: str | None
) -> Rows:
    """The secret's metadata row and its resource policy's statement rows."""
    secret_arn = str(secret["ARN"])
    row = shape(
        SECRETS,
        secret,
        renames={"version_ids_to_stages": "SecretVersionsToStages"},
        account_id=account_id,
        region=region,
        arn=secret_arn,
        policy=parse_document(policy) if policy else None,
    )
    out = empty((SECRETS, *POLICY_TABLES))
    out[SECRETS].append(with_ids(SECRETS, row))
    if policy:
        extend(
            out,
            split_policy(
                policy, account_id=account_id, source_table=SECRETS.name, source_arn=secret_arn
            ),
        )
    return out


def fetch_secrets(ctx: SessionContext, region: str | None) -> Rows:
    """Every secret of one region (metadata only) with its resource policy."""
    region = need_region("secretsmanager.secrets", region)
    sm = ctx.client("secretsmanager", region)
    out = empty((SECRETS, *POLICY_TABLES))
    for secret in paginate(sm, "list_secrets", "SecretList"):
        answer = optional(sm.get_resource_policy, absent=_GONE, SecretId=secret["ARN"])
        policy = (answer or {}).get("ResourcePolicy")
        extend(out, transform_secret(ctx.account_id, region, secret, policy))
    return out


register(
    Resource(
        name="secretsmanager.secrets",
        service="secretsmanager",
        tables=(SECRETS, *POLICY_TABLES),
        permissions=("secretsmanager:ListSecrets", "secretsmanager:GetResourcePolicy"),
        fetch=fetch_secrets,
        description="Secrets Manager secrets: rotation, KMS key, resource policy (never values).",
    )
)
