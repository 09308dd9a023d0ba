"""CloudTrail trails: configuration, logging status, event selectors, tags.

Each trail is read in its home region (shadow copies of multi-region trails are skipped), so
it appears once per account. Event selectors are also split into rows of
`cwpp_aws_cloudtrail_selector_fields`, in the advanced selectors' vocabulary, so checks never
walk the JSON lists: one row per (selector, field, operator, value). Basic selectors map to
`readOnly` (ReadWriteType All gives both `true` and `false`), `eventCategory` = `Management`
when management events are included, `eventSource` NotEquals for excluded management sources,
and `resources.type` / `resources.ARN` for data resources (which, in a basic selector, are
logged besides the management events, not instead of them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import (
    columns,
    empty,
    extend,
    need_region,
    shape,
    tags_of,
    with_ids,
)
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, register, strip_metadata
from opencwpp.lake.schema import cq_id, table

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

SELECTOR_FIELDS = table(
    "cwpp_aws_cloudtrail_selector_fields",
    columns("account_id region trail_arn selector_index:int kind field operator value"),
    cq_id_from=["trail_arn", "kind", "selector_index", "field", "operator", "value"],
    parent="aws_cloudtrail_trails",
    indexes=[("trail_arn",)],
    description="One row per (event selector, field, operator, value) of a trail.",
)
_OPERATORS = ("Equals", "NotEquals", "StartsWith", "NotStartsWith", "EndsWith", "NotEndsWith")
_READ_ONLY = {"All": ("true", "false"), "ReadOnly": ("true",), "WriteOnly": ("false",)}
Field = tuple[str, str, str]


def _basic_fields(selector: Mapping[str, Any]) -> list[Field]:
    fields: list[Field] = [
        ("readOnly", "Equals", v) for v in _READ_ONLY.get(selector.get("ReadWriteType", "All"), ())
    ]
    if selector.get("IncludeManagementEvents", True):
        fields.append(("eventCategory", "Equals", "Management"))
    for source in selector.get("ExcludeManagementEventSources") or []:
        fields.append(("eventSource", "NotEquals", str(source)))
    for resource in selector.get("DataResources") or []:
        fields.append(("resources.type", "Equals", str(resource.get("Type"))))
        fields += [("resources.ARN", "StartsWith", str(v)) for v in resource.get("Values") or []]
    return fields


def _advanced_fields(selector: Mapping[str, Any]) -> list[Field]:
    fields: list[Field] = []
    for item in selector.get("FieldSelectors") or []:
        for operator in _OPERATORS:
            fields += [(str(item.get("Field")), operator, str(v)) for v in item.get(operator) or []]
    return fields


def selector_fields(parent: Row, selectors: Mapping[str, Any] | None) -> list[Row]:
    """Rows for a trail's basic (`EventSelectors`) and advanced selectors."""
    rows: dict[str, Row] = {}
    for kind, key, explode in (
        ("basic", "EventSelectors", _basic_fields),
        ("advanced", "AdvancedEventSelectors", _advanced_fields),
    ):
        for index, selector in enumerate((selectors or {}).get(key) or []):
            for field, operator, value in explode(selector):
                row: Row = {
                    "_cq_parent_id": parent.get("_cq_id"),
                    "account_id": parent["account_id"],
                    "region": parent["region"],
                    "trail_arn": parent["trail_arn"],
                    "selector_index": index,
                    "kind": kind,
                    "field": field,
                    "operator": operator,
                    "value": value,
                }
                row["_cq_id"] = cq_id(row, SELECTOR_FIELDS.cq_id_from)
                rows.setdefault(row["_cq_id"], row)
    return list(rows.values())


def log_group_name(log_group_arn: str | None) -> str | None:
    """`arn:aws:logs:r:a:log-group:NAME:*` -> `NAME`."""
    if not log_group_arn or ":log-group:" not in log_group_arn:
        return None
    return log_group_arn.split(":log-group:", 1)[1].split(":", 1)[0]


def transform_trail(account_id: str, region: str, details: Mapping[str, Any]) -> Rows:
    """The trail row (with its status), its event selectors row and their field rows."""
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
        tags=tags_of(details.get("tags", [])),
    )
    parent = with_ids(TRAILS, row)
    out = empty([TRAILS, EVENT_SELECTORS, SELECTOR_FIELDS])
    out[TRAILS].append(parent)
    selectors = details.get("selectors")
    if selectors is not None:
        child = shape(
            EVENT_SELECTORS, selectors, account_id=account_id, region=region, trail_arn=trail_arn
        )
        out[EVENT_SELECTORS].append(with_ids(EVENT_SELECTORS, child, parent))
        out[SELECTOR_FIELDS] = selector_fields(parent, selectors)
    return out


def fetch_trails(ctx: SessionContext, region: str | None) -> Rows:
    """Every trail whose home is this region, with status, selectors and tags."""
    region = need_region("cloudtrail.trails", region)
    ct = ctx.client("cloudtrail", region)
    out = empty([TRAILS, EVENT_SELECTORS, SELECTOR_FIELDS])
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
        tables=(TRAILS, EVENT_SELECTORS, SELECTOR_FIELDS),
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
