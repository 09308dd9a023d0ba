"""CloudWatch metric alarms: the metric each watches and the actions it takes.

The alarm link of the CIS section 4 chain (metric filter -> alarm -> SNS topic): `metric_name`
and `namespace` say which metric filter feeds it, `alarm_actions` which topics it notifies.
Composite alarms are not collected (CloudQuery's table holds metric alarms only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, need_region, shape, tags_of, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

ALARMS = table(
    "aws_cloudwatch_alarms",
    columns(
        """
        account_id region tags:json arn dimensions:json actions_enabled:bool alarm_actions:list
        alarm_arn alarm_configuration_updated_timestamp:ts alarm_description alarm_name
        comparison_operator datapoints_to_alarm:int evaluate_low_sample_count_percentile
        evaluation_periods:int evaluation_state extended_statistic insufficient_data_actions:list
        metric_name metrics:json namespace ok_actions:list period:int state_reason
        state_reason_data state_transitioned_timestamp:ts state_updated_timestamp:ts state_value
        statistic threshold:float threshold_metric_id treat_missing_data unit
        """
    ),
    cq_id_from=["arn"],
)


def transform_alarm(
    account_id: str, region: str, alarm: Mapping[str, Any], tags: list[Mapping[str, Any]]
) -> Rows:
    """One alarm row (`DescribeAlarms` `MetricAlarms` item, with its tags)."""
    row = shape(
        ALARMS,
        alarm,
        account_id=account_id,
        region=region,
        arn=alarm.get("AlarmArn"),
        tags=tags_of(tags),
    )
    return {ALARMS: [with_ids(ALARMS, row)]}


def fetch_alarms(ctx: SessionContext, region: str | None) -> Rows:
    """Every metric alarm of one region, all pages, with its tags."""
    region = need_region("cloudwatch.alarms", region)
    cw = ctx.client("cloudwatch", region)
    out = empty([ALARMS])
    for alarm in paginate(cw, "describe_alarms", "MetricAlarms", AlarmTypes=["MetricAlarm"]):
        tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
        out[ALARMS] += transform_alarm(ctx.account_id, region, alarm, tags)[ALARMS]
    return out


register(
    Resource(
        name="cloudwatch.alarms",
        service="cloudwatch",
        tables=(ALARMS,),
        permissions=("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
        fetch=fetch_alarms,
        description="CloudWatch metric alarms: watched metric, state and actions.",
    )
)
