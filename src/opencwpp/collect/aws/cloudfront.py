"""CloudFront distributions (a global service), with origins and cache behaviors as rows.

`distribution_config` keeps the whole configuration as CloudQuery does; the origins and the
cache behaviors (the default one first, then the others in precedence order) are also rows of two
derived tables, so checks never walk `Origins.Items` or `CacheBehaviors.Items`. Origin custom
headers are a common carrier of shared secrets (an origin-verification header the origin checks):
their values are stored as fingerprints only, and secret-looking ones are reported in
`cwpp_aws_secret_exposures`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from opencwpp.collect.aws._secrets import EXPOSURES, Exposure, exposure_rows, redact_environment
from opencwpp.collect.aws._shape import columns, empty, extend, shape, tags_of, with_ids
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, register
from opencwpp.lake.schema import table

DISTRIBUTIONS = table(
    "aws_cloudfront_distributions",
    columns(
        """
        account_id tags:json arn distribution_config:json domain_name id
        in_progress_invalidation_batches:int last_modified_time:ts status
        active_trusted_key_groups:json active_trusted_signers:json alias_icp_recordals:json
        """
    ),
    cq_id_from=["arn"],
)
ORIGINS = table(
    "cwpp_aws_cloudfront_distribution_origins",
    columns(
        """
        account_id distribution_arn distribution_id origin_id domain_name origin_type
        origin_protocol_policy origin_ssl_protocols origin_access_control_id
        origin_access_identity
        """
    ),
    cq_id_from=["distribution_arn", "origin_id"],
    parent="aws_cloudfront_distributions",
    indexes=[("distribution_arn",)],
    description=(
        "One row per distribution origin: type (s3, custom, vpc), protocol policy, the SSL "
        "protocols allowed to a custom origin (comma-separated), OAC / OAI."
    ),
)
BEHAVIORS = table(
    "cwpp_aws_cloudfront_distribution_cache_behaviors",
    columns(
        """
        account_id distribution_arn distribution_id behavior_index:int path_pattern
        is_default:bool target_origin_id viewer_protocol_policy
        """
    ),
    cq_id_from=["distribution_arn", "behavior_index"],
    parent="aws_cloudfront_distributions",
    indexes=[("distribution_arn",)],
    description=(
        "One row per cache behavior: index 0 is the default behavior (path_pattern NULL), then "
        "the others in precedence order."
    ),
)
CLOUDFRONT_TABLES = (DISTRIBUTIONS, ORIGINS, BEHAVIORS, EXPOSURES)
# CloudFront's control plane lives in us-east-1 (the global service's signing region).
CONTROL_REGION = "us-east-1"


def _items(container: Any) -> list[Any]:
    """The `Items` list of a CloudFront `{Quantity, Items}` structure ([] when absent)."""
    return list((container or {}).get("Items") or []) if isinstance(container, Mapping) else []


def redact_origin_headers(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[Exposure]]:
    """A copy of a distribution config whose origin custom header values are fingerprints."""
    clean = copy.deepcopy(dict(config))
    found: list[Exposure] = []
    for origin in _items(clean.get("Origins")):
        headers = _items(origin.get("CustomHeaders"))
        values = {str(h.get("HeaderName")): h.get("HeaderValue") for h in headers}
        location = f"cloudfront.origin.{origin.get('Id')}.custom_header"
        redacted, exposures = redact_environment(values, location)
        for header in headers:
            header["HeaderValue"] = redacted[str(header.get("HeaderName"))]
        found.extend(exposures)
    return clean, found


def _origin_type(origin: Mapping[str, Any]) -> str:
    if origin.get("S3OriginConfig") is not None:
        return "s3"
    if origin.get("VpcOriginConfig") is not None:
        return "vpc"
    return "custom"


def _derived(parent: Row, config: Mapping[str, Any]) -> Rows:
    base = {
        "account_id": parent["account_id"],
        "distribution_arn": parent["arn"],
        "distribution_id": parent["id"],
    }
    origins: list[Row] = []
    for origin in _items(config.get("Origins")):
        custom = origin.get("CustomOriginConfig") or {}
        protocols = sorted(str(p) for p in _items(custom.get("OriginSslProtocols")))
        row: Row = {
            **base,
            "origin_id": origin.get("Id"),
            "domain_name": origin.get("DomainName"),
            "origin_type": _origin_type(origin),
            "origin_protocol_policy": custom.get("OriginProtocolPolicy"),
            "origin_ssl_protocols": ",".join(protocols) or None,
            "origin_access_control_id": origin.get("OriginAccessControlId") or None,
            "origin_access_identity": (origin.get("S3OriginConfig") or {}).get(
                "OriginAccessIdentity"
            )
            or None,
        }
        origins.append(with_ids(ORIGINS, row, parent))
    behaviors: list[Row] = []
    default = config.get("DefaultCacheBehavior")
    listed = [default] if isinstance(default, Mapping) else []
    for index, behavior in enumerate([*listed, *_items(config.get("CacheBehaviors"))]):
        is_default = bool(listed) and index == 0
        row = {
            **base,
            "behavior_index": index if listed else index + 1,
            "path_pattern": None if is_default else behavior.get("PathPattern"),
            "is_default": is_default,
            "target_origin_id": behavior.get("TargetOriginId"),
            "viewer_protocol_policy": behavior.get("ViewerProtocolPolicy"),
        }
        behaviors.append(with_ids(BEHAVIORS, row, parent))
    return {ORIGINS: origins, BEHAVIORS: behaviors}


def transform_distribution(
    account_id: str, distribution: Mapping[str, Any], tags: Sequence[Mapping[str, Any]]
) -> Rows:
    """Rows of one distribution (from GetDistribution): itself, origins, behaviors, exposures."""
    config, found = redact_origin_headers(distribution.get("DistributionConfig") or {})
    dist_arn = str(distribution["ARN"])
    parent = with_ids(
        DISTRIBUTIONS,
        shape(
            DISTRIBUTIONS,
            distribution,
            account_id=account_id,
            arn=dist_arn,
            distribution_config=config,
            tags=tags_of(tags),
        ),
    )
    out = empty(CLOUDFRONT_TABLES)
    out[DISTRIBUTIONS].append(parent)
    extend(out, _derived(parent, config))
    out[EXPOSURES] = exposure_rows(
        found,
        account_id=account_id,
        region="",
        source_table=DISTRIBUTIONS.name,
        resource_arn=dist_arn,
    )
    for row in out[EXPOSURES]:
        row["region"] = None  # a global resource
    return out


def fetch_distributions(ctx: SessionContext, region: str | None) -> Rows:
    """Every distribution of the account (region is None: CloudFront is global)."""
    del region
    cf = ctx.client("cloudfront", CONTROL_REGION)
    out = empty(CLOUDFRONT_TABLES)
    for page in cf.get_paginator("list_distributions").paginate():
        for summary in _items(page.get("DistributionList")):
            distribution = cf.get_distribution(Id=summary["Id"])["Distribution"]
            answer = cf.list_tags_for_resource(Resource=distribution["ARN"])
            tags = _items(answer.get("Tags"))
            extend(out, transform_distribution(ctx.account_id, distribution, tags))
    return out


register(
    Resource(
        name="cloudfront.distributions",
        service="cloudfront",
        tables=CLOUDFRONT_TABLES,
        permissions=(
            "cloudfront:ListDistributions",
            "cloudfront:GetDistribution",
            "cloudfront:ListTagsForResource",
        ),
        fetch=fetch_distributions,
        global_service=True,
        description="CloudFront distributions: viewer and origin protocols, TLS, WAF, logging.",
    )
)
