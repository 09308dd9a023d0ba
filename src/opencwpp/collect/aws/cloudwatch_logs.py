"""CloudWatch Logs metric filters: the pattern each filter counts and the metric it feeds.

CIS section 4 alarms are a chain trail -> log group -> metric filter -> alarm -> SNS topic; this
module fills the metric filter link. A filter has one metric transformation (the API allows no
more), kept as CloudQuery's JSON list with PascalCase keys (`MetricName`, `MetricNamespace`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import arn, columns, empty, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

METRIC_FILTERS = table(
    "aws_cloudwatchlogs_metric_filters",
    columns(
        """
        account_id region log_group_arn creation_time:int filter_name filter_pattern
        log_group_name metric_transformations:json
        """
    ),
    cq_id_from=["log_group_arn", "filter_name"],
)


def log_group_arn(account_id: str, region: str, name: str) -> str:
    """The log group's ARN as CloudQuery writes it (no trailing `:*`)."""
    return arn("logs", region, account_id, f"log-group:{name}")


def transform_metric_filter(account_id: str, region: str, item: Mapping[str, Any]) -> Rows:
    """One metric filter row (`DescribeMetricFilters` item)."""
    name = str(item.get("logGroupName", ""))
    row = shape(
        METRIC_FILTERS,
        item,
        pascal_json=True,
        account_id=account_id,
        region=region,
        log_group_arn=log_group_arn(account_id, region, name),
    )
    return {METRIC_FILTERS: [with_ids(METRIC_FILTERS, row)]}


def fetch_metric_filters(ctx: SessionContext, region: str | None) -> Rows:
    """Every metric filter of one region, all pages."""
    region = need_region("logs.metric_filters", region)
    logs = ctx.client("logs", region)
    out = empty([METRIC_FILTERS])
    for item in paginate(logs, "describe_metric_filters", "metricFilters"):
        out[METRIC_FILTERS] += transform_metric_filter(ctx.account_id, region, item)[METRIC_FILTERS]
    return out


register(
    Resource(
        name="logs.metric_filters",
        service="logs",
        tables=(METRIC_FILTERS,),
        permissions=("logs:DescribeMetricFilters",),
        fetch=fetch_metric_filters,
        description="CloudWatch Logs metric filters: pattern and the metric they feed.",
    )
)
