"""S3: buckets with their configuration, and the account-level public access block.

Per bucket: ACL grants, policy, encryption, versioning, public access block, logging and
ownership controls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from opencwpp.collect.aws.policies import POLICY_TABLES, parse_document, split_policy
from opencwpp.collect.base import (
    Resource,
    Row,
    Rows,
    SessionContext,
    error_code,
    optional,
    partition_of,
    register,
    strip_metadata,
    tags_dict,
)
from opencwpp.lake.schema import BOOL, JSON, TIMESTAMP, cq_id, table

BUCKETS = table(
    "aws_s3_buckets",
    [
        "account_id",
        "arn",
        ("creation_date", TIMESTAMP),
        "name",
        "region",
        ("policy_status", JSON),
        ("tags", JSON),
    ],
    cq_id_from=["arn"],
)
_CHILD = {"parent": "aws_s3_buckets"}
GRANTS = table(
    "aws_s3_bucket_grants",
    ["account_id", "bucket_arn", "grantee_type", "grantee_id", "permission", ("grantee", JSON)],
    cq_id_from=["bucket_arn", "grantee_type", "grantee_id", "permission"],
    **_CHILD,
)
POLICIES = table(
    "aws_s3_bucket_policies",
    ["account_id", "bucket_arn", ("policy_json", JSON), "policy"],
    cq_id_from=["bucket_arn"],
    **_CHILD,
)
ENCRYPTION_RULES = table(
    "aws_s3_bucket_encryption_rules",
    [
        "account_id",
        "bucket_arn",
        ("apply_server_side_encryption_by_default", JSON),
        ("bucket_key_enabled", BOOL),
    ],
    cq_id_from=["bucket_arn"],
    **_CHILD,
)
VERSIONINGS = table(
    "aws_s3_bucket_versionings",
    ["account_id", "bucket_arn", "mfa_delete", "status"],
    cq_id_from=["bucket_arn"],
    **_CHILD,
)
PUBLIC_ACCESS_BLOCKS = table(
    "aws_s3_bucket_public_access_blocks",
    ["account_id", "bucket_arn", ("public_access_block_configuration", JSON)],
    cq_id_from=["bucket_arn"],
    **_CHILD,
)
LOGGINGS = table(
    "aws_s3_bucket_loggings",
    ["account_id", "bucket_arn", ("logging_enabled", JSON)],
    cq_id_from=["bucket_arn"],
    **_CHILD,
)
OWNERSHIP_CONTROLS = table(
    "aws_s3_bucket_ownership_controls",
    ["account_id", "bucket_arn", "object_ownership"],
    cq_id_from=["bucket_arn", "object_ownership"],
    **_CHILD,
)
ACCOUNTS = table(
    "aws_s3_accounts",
    [
        "account_id",
        ("block_public_acls", BOOL),
        ("block_public_policy", BOOL),
        ("ignore_public_acls", BOOL),
        ("restrict_public_buckets", BOOL),
        ("config_exists", BOOL),
    ],
    cq_id_from=["account_id"],
)
BUCKET_TABLES = (
    BUCKETS,
    GRANTS,
    POLICIES,
    ENCRYPTION_RULES,
    VERSIONINGS,
    PUBLIC_ACCESS_BLOCKS,
    LOGGINGS,
    OWNERSHIP_CONTROLS,
)
_PAB_FLAGS = {
    "block_public_acls": "BlockPublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "ignore_public_acls": "IgnorePublicAcls",
    "restrict_public_buckets": "RestrictPublicBuckets",
}


def normalize_bucket_region(location: str | None) -> str:
    """GetBucketLocation's constraint as a region name (None/'' is us-east-1, 'EU' eu-west-1)."""
    if not location:
        return "us-east-1"
    if location == "EU":
        return "eu-west-1"
    return location


def grantee_id(grantee: Mapping[str, Any]) -> str:
    """The grantee's identity: canonical ID, group URI or e-mail address."""
    return str(grantee.get("ID") or grantee.get("URI") or grantee.get("EmailAddress") or "")


def transform_bucket(
    account_id: str, bucket: Mapping[str, Any], details: Mapping[str, Any]
) -> Rows:
    """All rows of one bucket from ListBuckets' entry and the per-bucket Get* responses."""
    region = details["region"]
    name = str(bucket["Name"])
    arn = f"arn:{partition_of(region)}:s3:::{name}"
    parent: Row = {
        "account_id": account_id,
        "arn": arn,
        "creation_date": bucket.get("CreationDate"),
        "name": name,
        "region": region,
        "policy_status": details.get("policy_status"),
        "tags": tags_dict(details.get("tags")),
    }
    parent_id = cq_id(parent, BUCKETS.cq_id_from)
    parent["_cq_id"] = parent_id
    base = {"_cq_parent_id": parent_id, "account_id": account_id, "bucket_arn": arn}
    out: Rows = {t: [] for t in (*BUCKET_TABLES, *POLICY_TABLES)}
    out[BUCKETS].append(parent)
    for grant in details.get("grants", []):
        grantee = dict(grant.get("Grantee", {}))
        out[GRANTS].append(
            {
                **base,
                "grantee_type": grantee.get("Type"),
                "grantee_id": grantee_id(grantee),
                "permission": grant.get("Permission"),
                "grantee": grantee,
            }
        )
    policy = details.get("policy")
    if policy:
        out[POLICIES].append({**base, "policy_json": parse_document(policy), "policy": policy})
        split = split_policy(
            policy, account_id=account_id, source_table=POLICIES.name, source_arn=arn
        )
        for tbl, rows in split.items():
            out[tbl].extend(rows)
    for rule in details.get("encryption_rules", []):
        out[ENCRYPTION_RULES].append(
            {
                **base,
                "apply_server_side_encryption_by_default": rule.get(
                    "ApplyServerSideEncryptionByDefault"
                ),
                "bucket_key_enabled": rule.get("BucketKeyEnabled"),
            }
        )
    versioning = details.get("versioning", {})
    out[VERSIONINGS].append(
        {**base, "status": versioning.get("Status"), "mfa_delete": versioning.get("MFADelete")}
    )
    pab = details.get("public_access_block")
    if pab is not None:
        out[PUBLIC_ACCESS_BLOCKS].append({**base, "public_access_block_configuration": pab})
    out[LOGGINGS].append({**base, "logging_enabled": details.get("logging_enabled")})
    for rule in details.get("ownership_rules", []):
        out[OWNERSHIP_CONTROLS].append({**base, "object_ownership": rule.get("ObjectOwnership")})
    return out


def _bucket_details(ctx: SessionContext, name: str) -> dict[str, Any] | None:
    """Every per-bucket Get* response a transform needs; None if the bucket vanished."""
    try:
        location = ctx.client("s3").get_bucket_location(Bucket=name).get("LocationConstraint")
        region = normalize_bucket_region(location)
        s3 = ctx.client("s3", region)
        tagging = optional(s3.get_bucket_tagging, Bucket=name) or {}
        status = optional(s3.get_bucket_policy_status, Bucket=name) or {}
        policy = optional(s3.get_bucket_policy, Bucket=name) or {}
        encryption = optional(s3.get_bucket_encryption, Bucket=name) or {}
        pab = optional(s3.get_public_access_block, Bucket=name)
        ownership = optional(s3.get_bucket_ownership_controls, Bucket=name) or {}
        return {
            "region": region,
            "tags": tagging.get("TagSet", []),
            "policy_status": status.get("PolicyStatus"),
            "grants": s3.get_bucket_acl(Bucket=name).get("Grants", []),
            "policy": policy.get("Policy"),
            "encryption_rules": encryption.get("ServerSideEncryptionConfiguration", {}).get(
                "Rules", []
            ),
            "versioning": strip_metadata(s3.get_bucket_versioning(Bucket=name)),
            "public_access_block": pab.get("PublicAccessBlockConfiguration") if pab else None,
            "logging_enabled": s3.get_bucket_logging(Bucket=name).get("LoggingEnabled"),
            "ownership_rules": ownership.get("OwnershipControls", {}).get("Rules", []),
        }
    except ClientError as err:
        if error_code(err) == "NoSuchBucket":
            return None
        raise


def fetch_buckets(ctx: SessionContext, region: str | None) -> Rows:
    """Every bucket of the account with its configuration and policy statements."""
    del region  # S3 is global: one listing, each bucket's calls go to its own region.
    out: Rows = {t: [] for t in (*BUCKET_TABLES, *POLICY_TABLES)}
    for bucket in ctx.client("s3").list_buckets().get("Buckets", []):
        details = _bucket_details(ctx, str(bucket["Name"]))
        if details is None:
            continue
        for tbl, rows in transform_bucket(ctx.account_id, bucket, details).items():
            out[tbl].extend(rows)
    return out


def transform_account(account_id: str, config: Mapping[str, Any] | None) -> Row:
    """The account-level public access block; all flags false when none is configured."""
    row: Row = {"account_id": account_id, "config_exists": config is not None}
    for column, key in _PAB_FLAGS.items():
        row[column] = bool((config or {}).get(key, False))
    return row


def fetch_account(ctx: SessionContext, region: str | None) -> Rows:
    """The account-level public access block (S3 Control)."""
    del region
    account = ctx.account_id
    response = optional(
        ctx.client("s3control").get_public_access_block,
        absent=frozenset({"NoSuchPublicAccessBlockConfiguration"}),
        AccountId=account,
    )
    config = response.get("PublicAccessBlockConfiguration") if response else None
    return {ACCOUNTS: [transform_account(account, config)]}


register(
    Resource(
        name="s3.buckets",
        service="s3",
        tables=(*BUCKET_TABLES, *POLICY_TABLES),
        permissions=(
            "s3:ListAllMyBuckets",
            "s3:GetBucketLocation",
            "s3:GetBucketTagging",
            "s3:GetBucketPolicyStatus",
            "s3:GetBucketAcl",
            "s3:GetBucketPolicy",
            "s3:GetEncryptionConfiguration",
            "s3:GetBucketVersioning",
            "s3:GetBucketPublicAccessBlock",
            "s3:GetBucketLogging",
            "s3:GetBucketOwnershipControls",
        ),
        fetch=fetch_buckets,
        global_service=True,
        description="S3 buckets and their access, encryption, versioning and logging settings.",
    )
)
register(
    Resource(
        name="s3.account",
        service="s3",
        tables=(ACCOUNTS,),
        permissions=("s3:GetAccountPublicAccessBlock",),
        fetch=fetch_account,
        global_service=True,
        description="The account-level S3 public access block.",
    )
)
