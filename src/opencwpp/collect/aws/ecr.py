"""ECR: repositories (scan on push, tag mutability, encryption), policies, images, registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, parse_document, split_policy
from opencwpp.collect.base import Resource, Rows, SessionContext, optional, paginate, register
from opencwpp.lake.schema import table

REPOSITORIES = table(
    "aws_ecr_repositories",
    columns(
        """
        account_id region arn tags:json created_at:ts encryption_configuration:json
        image_scanning_configuration:json image_tag_mutability registry_id repository_arn
        repository_name repository_uri
        """
    ),
    cq_id_from=["arn", "registry_id"],
)
IMAGES = table(
    "aws_ecr_repository_images",
    columns(
        """
        account_id region repository_arn artifact_media_type image_digest
        image_manifest_media_type image_pushed_at:ts image_scan_findings_summary:json
        image_scan_status:json image_size_in_bytes:int image_tags:list last_recorded_pull_time:ts
        registry_id repository_name
        """
    ),
    cq_id_from=["repository_arn", "image_digest", "registry_id"],
    parent="aws_ecr_repositories",
)
POLICIES = table(
    "aws_ecr_repository_policies",
    columns(
        "account_id region repository_arn policy_json:json policy_text registry_id repository_name"
    ),
    cq_id_from=["repository_arn", "registry_id"],
    parent="aws_ecr_repositories",
)
LIFECYCLE_POLICIES = table(
    "aws_ecr_repository_lifecycle_policies",
    columns(
        """
        account_id region repository_arn policy_json:json last_evaluated_at:ts
        lifecycle_policy_text registry_id repository_name
        """
    ),
    cq_id_from=["repository_arn", "registry_id"],
    parent="aws_ecr_repositories",
)
REGISTRIES = table(
    "aws_ecr_registries",
    columns("account_id region registry_id replication_configuration:json"),
    cq_id_from=["account_id", "region", "registry_id"],
)
REPO_TABLES = (REPOSITORIES, IMAGES, POLICIES, LIFECYCLE_POLICIES, *POLICY_TABLES)
_ABSENT = frozenset(
    {
        "RepositoryPolicyNotFoundException",
        "LifecyclePolicyNotFoundException",
        "RepositoryNotFoundException",
    }
)


def transform_repository(account_id: str, region: str, details: Mapping[str, Any]) -> Rows:
    """Rows of one repository: itself, its images, its policy (split) and lifecycle policy."""
    repo = details["repository"]
    repo_arn = str(repo["repositoryArn"])
    base: dict[str, Any] = {"account_id": account_id, "region": region}
    parent = with_ids(
        REPOSITORIES,
        shape(REPOSITORIES, repo, pascal_json=True, arn=repo_arn, tags=details.get("tags"), **base),
    )
    out = empty(REPO_TABLES)
    out[REPOSITORIES].append(parent)
    child: dict[str, Any] = {**base, "repository_arn": repo_arn}
    for image in details.get("images", []):
        row = shape(IMAGES, image, pascal_json=True, **child)
        out[IMAGES].append(with_ids(IMAGES, row, parent))
    policy = details.get("policy")
    if policy:
        text = policy.get("policyText")
        row = shape(POLICIES, policy, policy_json=parse_document(text), **child)
        out[POLICIES].append(with_ids(POLICIES, row, parent))
        extend(
            out,
            split_policy(
                text, account_id=account_id, source_table=POLICIES.name, source_arn=repo_arn
            ),
        )
    lifecycle = details.get("lifecycle")
    if lifecycle:
        text = lifecycle.get("lifecyclePolicyText")
        row = shape(LIFECYCLE_POLICIES, lifecycle, policy_json=parse_document(text), **child)
        out[LIFECYCLE_POLICIES].append(with_ids(LIFECYCLE_POLICIES, row, parent))
    return out


def fetch_repositories(ctx: SessionContext, region: str | None) -> Rows:
    """Every repository of one region with its images and policies."""
    region = need_region("ecr.repositories", region)
    ecr = ctx.client("ecr", region)
    out = empty(REPO_TABLES)
    for repo in paginate(ecr, "describe_repositories", "repositories"):
        name = repo["repositoryName"]
        ids = {"repositoryName": name, "registryId": repo["registryId"]}
        details = {
            "repository": repo,
            "tags": ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags"),
            "images": paginate(ecr, "describe_images", "imageDetails", **ids),
            "policy": optional(ecr.get_repository_policy, absent=_ABSENT, **ids),
            "lifecycle": optional(ecr.get_lifecycle_policy, absent=_ABSENT, **ids),
        }
        extend(out, transform_repository(ctx.account_id, region, details))
    return out


def fetch_registry(ctx: SessionContext, region: str | None) -> Rows:
    """The account's private registry of one region (replication configuration)."""
    region = need_region("ecr.registries", region)
    answer = ctx.client("ecr", region).describe_registry()
    row = shape(REGISTRIES, answer, pascal_json=True, account_id=ctx.account_id, region=region)
    return {REGISTRIES: [with_ids(REGISTRIES, row)]}


register(
    Resource(
        name="ecr.repositories",
        service="ecr",
        tables=REPO_TABLES,
        permissions=(
            "ecr:DescribeRepositories",
            "ecr:ListTagsForResource",
            "ecr:DescribeImages",
            "ecr:GetRepositoryPolicy",
            "ecr:GetLifecyclePolicy",
        ),
        fetch=fetch_repositories,
        description="ECR repositories: scan on push, tag mutability, encryption, policy, images.",
    )
)
register(
    Resource(
        name="ecr.registries",
        service="ecr",
        tables=(REGISTRIES,),
        permissions=("ecr:DescribeRegistry",),
        fetch=fetch_registry,
        description="ECR private registries and their replication configuration.",
    )
)
