"""CloudTrail trails: configuration, logging status, event selectors, tags.

Each trail is read in its home region (shadow copies of multi-region trails are skipped), so
it appears once per account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, register, strip_metadata
from opencwpp.lake.schema import table

TRAILS = table(
    "aws_cloudtrail_trails",
    columns(
        """
        account_id region cloudwatch_logs_log_group_name arn status:json
        cloud_watch_logs_log_group_arn cloud_watch_logs_role_arn has_custom_event_selectors:bool
        has_insight_selectors:bool home_region include_global_service_events:bool
        is_multi_region_trail:bool is_organization_trail:bool kms_key_id
        log_file_validation_enabled:bool name s3_bucket_name s3_key_prefix sns_topic_arn
        sns_topic_name trail_arn tags:json
        """
    ),
    cq_id_from=["account_id", "region", "arn"],
)
EVENT_SELECTORS = table(
    "aws_cloudtrail_trail_event_selectors",
    columns("account_id region advanced_event_selectors:json event_selectors:json trail_arn"),
    cq_id_from=["trail_arn"],
    parent="aws_cloudtrail_trails",
)


def log_group_name(log_group_arn: str | None) -> str | None:
    """`arn:aws:logs:r:a:log-group:NAME:*` -> `NAME`."""
    if not log_group_arn or ":log-group:" not in log_group_arn:
        return None
    return log_group_arn.split(":log-group:", 1)[1].split(":", 1)[0]


def transform_trail(account_id: str, region: str, details: Mapping[str, Any]) -> Rows:
    """The trail row (with its status) and its event selectors row."""
    trail = details["trail"]
    trail_arn = trail["TrailARN"]
    row = shape(
        TRAILS,
        trail,
        account_id=account_id,
        region=region,
        arn=trail_arn,
        trail_arn=trail_arn,
        status=details.get("status"),
        cloudwatch_logs_log_group_name=log_group_name(trail.get("CloudWatchLogsLogGroupArn")),
        tags=details.get("tags", []),
    )
    parent = with_ids(TRAILS, row)
    out = empty([TRAILS, EVENT_SELECTORS])
    out[TRAILS].append(parent)
    selectors = details.get("selectors")
    if selectors is not None:
        child = shape(
            EVENT_SELECTORS, selectors, account_id=account_id, region=region, trail_arn=trail_arn
        )
        out[EVENT_SELECTORS].append(with_ids(EVENT_SELECTORS, child, parent))
    return out


def fetch_trails(ctx: SessionContext, region: str | None) -> Rows:
    """Every trail whose home is this region, with status, selectors and tags."""
    region = need_region("cloudtrail.trails", region)
    ct = ctx.client("cloudtrail", region)
    out = empty([TRAILS, EVENT_SELECTORS])
    # Shadow trails include the organization trail a member account logs to; each trail is
    # kept once, in its home region.
    for trail in ct.describe_trails(includeShadowTrails=True).get("trailList", []):
        if trail.get("HomeRegion", region) != region:
            continue
        trail_arn = trail["TrailARN"]
        owned = trail_arn.split(":")[4] == ctx.account_id
        # Another account's (organization) trail: its tags are that account's to read.
        tags = ct.list_tags(ResourceIdList=[trail_arn]).get("ResourceTagList", []) if owned else []
        details = {
            "trail": trail,
            "status": strip_metadata(ct.get_trail_status(Name=trail_arn)),
            "selectors": strip_metadata(ct.get_event_selectors(TrailName=trail_arn)),
            "tags": tags[0].get("TagsList", []) if tags else [],
        }
        extend(out, transform_trail(ctx.account_id, region, details))
    return out


register(
    Resource(
        name="cloudtrail.trails",
        service="cloudtrail",
        tables=(TRAILS, EVENT_SELECTORS),
        permissions=(
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
            "cloudtrail:ListTags",
        ),
        fetch=fetch_trails,
        description="CloudTrail trails: logging status, multi-region, validation, selectors.",
    )
)
