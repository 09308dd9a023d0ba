"""AWS Config: configuration recorders (with their recording status) and delivery channels.

Whether Config records, and where it delivers, is a logging-readiness fact checks read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import arn, columns, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, register
from opencwpp.lake.schema import table

RECORDERS = table(
    "aws_config_configuration_recorders",
    columns(
        "account_id region arn name recording_group:json recording_mode:json role_arn "
        "status_last_error_code status_last_error_message status_last_start_time:ts "
        "status_last_status status_last_status_change_time:ts status_last_stop_time:ts "
        "status_recording:bool"
    ),
    cq_id_from=["arn"],
)
CHANNELS = table(
    "aws_config_delivery_channels",
    columns(
        "account_id region config_snapshot_delivery_properties:json name s3_bucket_name "
        "s3_key_prefix s3_kms_key_arn sns_topic_arn"
    ),
    cq_id_from=["account_id", "region", "name"],
)


def transform_recorder(
    account_id: str, region: str, recorder: Mapping[str, Any], status: Mapping[str, Any] | None
) -> Rows:
    """The row of one recorder, its `status_*` columns from DescribeConfigurationRecorderStatus."""
    status = status or {}
    name = str(recorder["name"])
    row = shape(
        RECORDERS,
        recorder,
        pascal_json=True,
        account_id=account_id,
        region=region,
        arn=recorder.get("arn") or arn("config", region, account_id, f"config-recorder/{name}"),
        role_arn=recorder.get("roleARN"),
        status_last_error_code=status.get("lastErrorCode"),
        status_last_error_message=status.get("lastErrorMessage"),
        status_last_start_time=status.get("lastStartTime"),
        status_last_status=status.get("lastStatus"),
        status_last_status_change_time=status.get("lastStatusChangeTime"),
        status_last_stop_time=status.get("lastStopTime"),
        status_recording=status.get("recording", False),
    )
    return {RECORDERS: [with_ids(RECORDERS, row)]}


def transform_channel(account_id: str, region: str, channel: Mapping[str, Any]) -> Rows:
    """The row of one delivery channel (bucket, prefix, KMS key, SNS topic, frequency)."""
    row = shape(CHANNELS, channel, pascal_json=True, account_id=account_id, region=region)
    return {CHANNELS: [with_ids(CHANNELS, row)]}


def fetch_recorders(ctx: SessionContext, region: str | None) -> Rows:
    """The region's configuration recorders with their status (none: Config is off there)."""
    region = need_region("config.recorders", region)
    config = ctx.client("config", region)
    recorders = config.describe_configuration_recorders().get("ConfigurationRecorders", [])
    statuses = config.describe_configuration_recorder_status().get(
        "ConfigurationRecordersStatus", []
    )
    by_name = {s.get("name"): s for s in statuses}
    rows = []
    for recorder in recorders:
        status = by_name.get(recorder.get("name"))
        rows += transform_recorder(ctx.account_id, region, recorder, status)[RECORDERS]
    return {RECORDERS: rows}


def fetch_channels(ctx: SessionContext, region: str | None) -> Rows:
    """The region's delivery channels."""
    region = need_region("config.delivery_channels", region)
    channels = ctx.client("config", region).describe_delivery_channels().get("DeliveryChannels", [])
    rows = []
    for channel in channels:
        rows += transform_channel(ctx.account_id, region, channel)[CHANNELS]
    return {CHANNELS: rows}


register(
    Resource(
        name="config.recorders",
        service="config",
        tables=(RECORDERS,),
        permissions=(
            "config:DescribeConfigurationRecorders",
            "config:DescribeConfigurationRecorderStatus",
        ),
        fetch=fetch_recorders,
        description="AWS Config configuration recorders and whether they record.",
    )
)
register(
    Resource(
        name="config.delivery_channels",
        service="config",
        tables=(CHANNELS,),
        permissions=("config:DescribeDeliveryChannels",),
        fetch=fetch_channels,
        description="AWS Config delivery channels (S3 bucket, SNS topic, KMS key).",
    )
)
