"""Security Hub: whether the hub is enabled in each region (a row when on, none when off)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from opencwpp.collect.aws._shape import columns, need_region, shape, with_ids
from opencwpp.collect.base import (
    Resource,
    Rows,
    SessionContext,
    error_code,
    not_assessed_reason,
    register,
)
from opencwpp.lake.schema import table

HUBS = table(
    "aws_securityhub_hubs",
    columns(
        "account_id region tags:json auto_enable_controls:bool control_finding_generator "
        "hub_arn subscribed_at:ts"
    ),
    cq_id_from=["account_id", "region", "hub_arn"],
)
# DescribeHub's answer when the account is not subscribed in the region: the hub is off.
_NOT_ENABLED = frozenset({"InvalidAccessException"})


def transform_hub(
    account_id: str, region: str, hub: Mapping[str, Any], tags: Mapping[str, str] | None
) -> Rows:
    """The row of the region's hub (DescribeHub answer)."""
    row = shape(HUBS, hub, account_id=account_id, region=region, tags=dict(tags or {}))
    return {HUBS: [with_ids(HUBS, row)]}


def _tags(client: Any, hub_arn: str) -> Mapping[str, str] | None:
    """The hub's tags; None where the endpoint lacks the tagging API (tags are secondary)."""
    try:
        return dict(client.list_tags_for_resource(ResourceArn=hub_arn).get("Tags", {}))
    except ClientError as err:
        reason = not_assessed_reason(err)
        if reason is not None and reason.startswith("service not available"):
            return None
        raise


def fetch_hubs(ctx: SessionContext, region: str | None) -> Rows:
    """The region's hub when Security Hub is enabled there; no row when it is not."""
    region = need_region("securityhub.hubs", region)
    client = ctx.client("securityhub", region)
    try:
        hub = client.describe_hub()
    except ClientError as err:
        if error_code(err) in _NOT_ENABLED:
            return {HUBS: []}
        raise
    return transform_hub(ctx.account_id, region, hub, _tags(client, str(hub["HubArn"])))


register(
    Resource(
        name="securityhub.hubs",
        service="securityhub",
        tables=(HUBS,),
        permissions=("securityhub:DescribeHub", "securityhub:ListTagsForResource"),
        fetch=fetch_hubs,
        description="Security Hub: enabled or not per region, control settings.",
    )
)
