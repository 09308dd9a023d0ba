"""IAM managed policies: customer-managed ones, AWS-managed ones in use, default versions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws.iam_principals import add_split, empty_rows, merge
from opencwpp.collect.aws.policies import POLICY_TABLES
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
from opencwpp.lake.schema import BOOL, INT64, JSON, TIMESTAMP, cq_id, table

POLICIES = table(
    "aws_iam_policies",
    [
        "account_id",
        "id",
        ("tags", JSON),
        "arn",
        ("attachment_count", INT64),
        ("create_date", TIMESTAMP),
        "default_version_id",
        "description",
        ("is_attachable", BOOL),
        "path",
        ("permissions_boundary_usage_count", INT64),
        "policy_id",
        "policy_name",
        ("update_date", TIMESTAMP),
    ],
    cq_id_from=["account_id", "id"],
)
POLICY_VERSIONS = table(
    "aws_iam_policy_versions",
    [
        "account_id",
        "policy_arn",
        ("document_json", JSON),
        ("create_date", TIMESTAMP),
        "document",
        ("is_default_version", BOOL),
        "version_id",
    ],
    cq_id_from=["account_id", "policy_arn", "version_id"],
    parent="aws_iam_policies",
)
MANAGED_TABLES = (POLICIES, POLICY_VERSIONS)


def transform_policy(
    account_id: str, policy: Mapping[str, Any], version: Mapping[str, Any] | None
) -> Rows:
    """Rows of one managed policy and its default version (document split into statements)."""
    arn = str(policy["Arn"])
    parent: Row = {
        "account_id": account_id,
        "id": policy.get("PolicyId"),
        "tags": tags_dict(policy.get("Tags")),
        "arn": arn,
        "attachment_count": policy.get("AttachmentCount"),
        "create_date": policy.get("CreateDate"),
        "default_version_id": policy.get("DefaultVersionId"),
        "description": policy.get("Description"),
        "is_attachable": policy.get("IsAttachable"),
        "path": policy.get("Path"),
        "permissions_boundary_usage_count": policy.get("PermissionsBoundaryUsageCount"),
        "policy_id": policy.get("PolicyId"),
        "policy_name": policy.get("PolicyName"),
        "update_date": policy.get("UpdateDate"),
    }
    parent["_cq_id"] = cq_id(parent, POLICIES.cq_id_from)
    out = empty_rows(MANAGED_TABLES)
    out[POLICIES].append(parent)
    if version is not None:
        raw = version.get("Document")
        doc = policy_document(raw)
        out[POLICY_VERSIONS].append(
            {
                "_cq_parent_id": parent["_cq_id"],
                "account_id": account_id,
                "policy_arn": arn,
                "document_json": doc,
                "create_date": version.get("CreateDate"),
                "document": raw if isinstance(raw, str) else None,
                "is_default_version": version.get("IsDefaultVersion"),
                "version_id": version.get("VersionId"),
            }
        )
        add_split(
            out,
            doc,
            account_id=account_id,
            source_table=POLICIES.name,
            source_arn=arn,
            policy_name=str(policy.get("PolicyName") or ""),
        )
    return out


def fetch_policies(ctx: SessionContext, region: str | None) -> Rows:
    """Customer-managed policies, and AWS-managed ones attached to something; default versions."""
    del region
    iam = ctx.client("iam")
    local = paginate(iam, "list_policies", "Policies", Scope="Local")
    for policy in local:
        policy["Tags"] = paginate(iam, "list_policy_tags", "Tags", PolicyArn=policy["Arn"])
    aws = paginate(iam, "list_policies", "Policies", Scope="AWS", OnlyAttached=True)
    out = empty_rows(MANAGED_TABLES)
    for policy in [*local, *aws]:
        version = iam.get_policy_version(
            PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
        ).get("PolicyVersion")
        merge(out, transform_policy(ctx.account_id, policy, version))
    return out


register(
    Resource(
        name="iam.policies",
        tables=(*MANAGED_TABLES, *POLICY_TABLES),
        permissions=("iam:ListPolicies", "iam:ListPolicyTags", "iam:GetPolicyVersion"),
        fetch=fetch_policies,
        description="Managed policies in use and their default version documents.",
        service="iam",
        global_service=True,
    )
)
