"""KMS: keys with rotation status, key policies (split into statements), grants; aliases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import empty, extend, need_region, shape, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, parse_document, split_policy
from opencwpp.collect.base import Resource, Rows, SessionContext, optional, paginate, register
from opencwpp.lake.schema import BOOL, INT64, JSON, LIST_UTF8, TIMESTAMP, table

KEYS = table(
    "aws_kms_keys",
    [
        "account_id",
        "region",
        ("rotation_enabled", BOOL),
        ("tags", JSON),
        "arn",
        ("replica_keys", JSON),
        "key_id",
        "aws_account_id",
        "cloud_hsm_cluster_id",
        ("creation_date", TIMESTAMP),
        "custom_key_store_id",
        "customer_master_key_spec",
        ("deletion_date", TIMESTAMP),
        "description",
        ("enabled", BOOL),
        ("encryption_algorithms", LIST_UTF8),
        "expiration_model",
        "key_manager",
        "key_spec",
        "key_state",
        "key_usage",
        ("mac_algorithms", LIST_UTF8),
        ("multi_region", BOOL),
        ("multi_region_configuration", JSON),
        "origin",
        ("pending_deletion_window_in_days", INT64),
        ("signing_algorithms", LIST_UTF8),
        ("valid_to", TIMESTAMP),
        ("xks_key_configuration", JSON),
    ],
    cq_id_from=["arn"],
)
_CHILD = {"parent": "aws_kms_keys"}
KEY_POLICIES = table(
    "aws_kms_key_policies",
    ["account_id", "region", "key_arn", "name", ("policy", JSON)],
    cq_id_from=["key_arn", "name"],
    **_CHILD,
)
KEY_GRANTS = table(
    "aws_kms_key_grants",
    [
        "account_id",
        "region",
        "key_arn",
        "grant_id",
        ("constraints", JSON),
        ("creation_date", TIMESTAMP),
        "grantee_principal",
        "issuing_account",
        "key_id",
        "name",
        ("operations", LIST_UTF8),
        "retiring_principal",
    ],
    cq_id_from=["key_arn", "grant_id"],
    **_CHILD,
)
ALIASES = table(
    "aws_kms_aliases",
    [
        "account_id",
        "region",
        "arn",
        "alias_arn",
        "alias_name",
        ("creation_date", TIMESTAMP),
        ("last_updated_date", TIMESTAMP),
        "target_key_id",
    ],
    cq_id_from=["arn"],
)
KEY_TABLES = (KEYS, KEY_POLICIES, KEY_GRANTS)
# Keys whose state or kind does not allow the call: not an error, nothing to read.
_NOT_READABLE = frozenset(
    {"KMSInvalidStateException", "UnsupportedOperationException", "NotFoundException"}
)


def transform_key(
    account_id: str, region: str, metadata: Mapping[str, Any], details: Mapping[str, Any]
) -> Rows:
    """The key row, its policies (and their statements) and its grants."""
    key_arn = str(metadata["Arn"])
    parent = with_ids(
        KEYS,
        shape(
            KEYS,
            metadata,
            account_id=account_id,
            region=region,
            arn=key_arn,
            rotation_enabled=details.get("rotation_enabled"),
            tags=details.get("tags", {}),
            replica_keys=(metadata.get("MultiRegionConfiguration") or {}).get("ReplicaKeys"),
            aws_account_id=metadata.get("AWSAccountId"),
        ),
    )
    out = empty((*KEY_TABLES, *POLICY_TABLES))
    out[KEYS].append(parent)
    for name, document in details.get("policies", {}).items():
        row = {
            "account_id": account_id,
            "region": region,
            "key_arn": key_arn,
            "name": name,
            "policy": parse_document(document),
        }
        out[KEY_POLICIES].append(with_ids(KEY_POLICIES, row, parent))
        extend(
            out,
            split_policy(
                document,
                account_id=account_id,
                source_table=KEY_POLICIES.name,
                source_arn=key_arn,
                policy_name=name,
            ),
        )
    for grant in details.get("grants", []):
        row = shape(KEY_GRANTS, grant, account_id=account_id, region=region, key_arn=key_arn)
        out[KEY_GRANTS].append(with_ids(KEY_GRANTS, row, parent))
    return out


def _key_details(kms: Any, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Rotation, tags, policies and grants of one key (rotation only for customer keys)."""
    key_id = metadata["KeyId"]
    details: dict[str, Any] = {}
    if metadata.get("KeyManager") == "CUSTOMER":
        status = optional(kms.get_key_rotation_status, absent=_NOT_READABLE, KeyId=key_id)
        details["rotation_enabled"] = status.get("KeyRotationEnabled") if status else None
        tags = paginate(kms, "list_resource_tags", "Tags", KeyId=key_id)
        details["tags"] = {t["TagKey"]: t.get("TagValue", "") for t in tags}
    else:
        details["rotation_enabled"] = True  # AWS-managed keys rotate every year.
    policies: dict[str, Any] = {}
    for name in paginate(kms, "list_key_policies", "PolicyNames", KeyId=key_id):
        answer = optional(kms.get_key_policy, absent=_NOT_READABLE, KeyId=key_id, PolicyName=name)
        if answer is not None:
            policies[name] = answer.get("Policy")
    details["policies"] = policies
    details["grants"] = paginate(kms, "list_grants", "Grants", KeyId=key_id)
    return details


def fetch_keys(ctx: SessionContext, region: str | None) -> Rows:
    """Every key of one region with its rotation, policies and grants."""
    region = need_region("kms.keys", region)
    kms = ctx.client("kms", region)
    out = empty((*KEY_TABLES, *POLICY_TABLES))
    for key in paginate(kms, "list_keys", "Keys"):
        answer = optional(kms.describe_key, absent=_NOT_READABLE, KeyId=key["KeyId"])
        if answer is None:
            continue
        metadata = answer["KeyMetadata"]
        extend(out, transform_key(ctx.account_id, region, metadata, _key_details(kms, metadata)))
    return out


def transform_alias(account_id: str, region: str, alias: Mapping[str, Any]) -> Rows:
    """The row of one alias."""
    row = shape(ALIASES, alias, account_id=account_id, region=region, arn=alias.get("AliasArn"))
    return {ALIASES: [with_ids(ALIASES, row)]}


def fetch_aliases(ctx: SessionContext, region: str | None) -> Rows:
    """Every key alias of one region."""
    region = need_region("kms.aliases", region)
    out = empty([ALIASES])
    for alias in paginate(ctx.client("kms", region), "list_aliases", "Aliases"):
        extend(out, transform_alias(ctx.account_id, region, alias))
    return out


register(
    Resource(
        name="kms.keys",
        service="kms",
        tables=(*KEY_TABLES, *POLICY_TABLES),
        permissions=(
            "kms:ListKeys",
            "kms:DescribeKey",
            "kms:GetKeyRotationStatus",
            "kms:ListResourceTags",
            "kms:ListKeyPolicies",
            "kms:GetKeyPolicy",
            "kms:ListGrants",
        ),
        fetch=fetch_keys,
        description="KMS keys: state, rotation, key policies and grants.",
    )
)
register(
    Resource(
        name="kms.aliases",
        service="kms",
        tables=(ALIASES,),
        permissions=("kms:ListAliases",),
        fetch=fetch_aliases,
        description="KMS key aliases.",
    )
)
