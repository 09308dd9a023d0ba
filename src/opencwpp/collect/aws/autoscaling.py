"""EC2 Auto Scaling: groups (launch template or configuration) and launch configurations.

A launch configuration's user data is a secret carrier: it is decoded, scanned and replaced by
its fingerprint in `user_data`; secret-looking values become `cwpp_aws_secret_exposures` rows.
The groups' `load_balancers`, `load_balancer_target_groups` and `notification_configurations`
(extra calls per group in CloudQuery) are left empty: `target_group_arns` and
`load_balancer_names` carry the same attachments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._secrets import (
    EXPOSURES,
    decode_user_data,
    exposure_rows,
    fingerprint,
    scan_text,
)
from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

GROUPS = table(
    "aws_autoscaling_groups",
    columns(
        """
        account_id region load_balancers:json load_balancer_target_groups:json arn tags:json
        tags_raw:json auto_scaling_group_name availability_zones:list created_time:ts
        default_cooldown:int desired_capacity:int health_check_type max_size:int min_size:int
        auto_scaling_group_arn capacity_rebalance:bool context default_instance_warmup:int
        desired_capacity_type enabled_metrics:json health_check_grace_period:int
        instance_maintenance_policy:json instances:json launch_configuration_name
        launch_template:json load_balancer_names:list max_instance_lifetime:int
        mixed_instances_policy:json new_instances_protected_from_scale_in:bool placement_group
        predicted_capacity:int service_linked_role_arn status suspended_processes:json
        target_group_arns:list termination_policies:list traffic_sources:json
        vpc_zone_identifier warm_pool_configuration:json warm_pool_size:int
        notification_configurations:json
        """
    ),
    cq_id_from=["arn"],
)
LAUNCH_CONFIGURATIONS = table(
    "aws_autoscaling_launch_configurations",
    columns(
        """
        account_id region arn created_time:ts image_id instance_type launch_configuration_name
        associate_public_ip_address:bool block_device_mappings:json classic_link_vpc_id
        classic_link_vpc_security_groups:list ebs_optimized:bool iam_instance_profile
        instance_monitoring:json kernel_id key_name launch_configuration_arn metadata_options:json
        placement_tenancy ramdisk_id security_groups:list spot_price user_data
        """
    ),
    cq_id_from=["arn"],
)
# Fields whose snake_case is not CloudQuery's column name.
_GROUP_RENAMES = {
    "target_group_arns": "TargetGroupARNs",
    "classic_link_vpc_security_groups": "ClassicLinkVPCSecurityGroups",
}


def transform_group(account_id: str, region: str, group: Mapping[str, Any]) -> Rows:
    """The row of one Auto Scaling group (tags flat in `tags`, as listed in `tags_raw`)."""
    row = shape(
        GROUPS,
        group,
        renames=_GROUP_RENAMES,
        account_id=account_id,
        region=region,
        arn=group["AutoScalingGroupARN"],
        tags_raw=list(group.get("Tags") or []),
    )
    return {GROUPS: [with_ids(GROUPS, row)]}


def transform_launch_configuration(account_id: str, region: str, lc: Mapping[str, Any]) -> Rows:
    """The row of one launch configuration (user data fingerprinted) and its exposure rows."""
    lc_arn = str(lc["LaunchConfigurationARN"])
    encoded = lc.get("UserData")
    text = decode_user_data(str(encoded)) if encoded else ""
    row = shape(
        LAUNCH_CONFIGURATIONS,
        lc,
        renames=_GROUP_RENAMES,
        account_id=account_id,
        region=region,
        arn=lc_arn,
        user_data=fingerprint(text) if encoded else None,
    )
    found = scan_text(text, "autoscaling.launch_configuration.user_data") if text else []
    return {
        LAUNCH_CONFIGURATIONS: [with_ids(LAUNCH_CONFIGURATIONS, row)],
        EXPOSURES: exposure_rows(
            found,
            account_id=account_id,
            region=region,
            source_table=LAUNCH_CONFIGURATIONS.name,
            resource_arn=lc_arn,
        ),
    }


def fetch_groups(ctx: SessionContext, region: str | None) -> Rows:
    """Every Auto Scaling group of one region."""
    region = need_region("autoscaling.groups", region)
    client = ctx.client("autoscaling", region)
    out = empty([GROUPS])
    for group in paginate(client, "describe_auto_scaling_groups", "AutoScalingGroups"):
        extend(out, transform_group(ctx.account_id, region, group))
    return out


def fetch_launch_configurations(ctx: SessionContext, region: str | None) -> Rows:
    """Every launch configuration of one region; user data scanned, then fingerprinted."""
    region = need_region("autoscaling.launch_configurations", region)
    client = ctx.client("autoscaling", region)
    out = empty([LAUNCH_CONFIGURATIONS, EXPOSURES])
    for lc in paginate(client, "describe_launch_configurations", "LaunchConfigurations"):
        extend(out, transform_launch_configuration(ctx.account_id, region, lc))
    return out


register(
    Resource(
        name="autoscaling.groups",
        service="autoscaling",
        tables=(GROUPS,),
        permissions=("autoscaling:DescribeAutoScalingGroups",),
        fetch=fetch_groups,
        description="Auto Scaling groups: launch template or configuration, subnets, capacity.",
    )
)
register(
    Resource(
        name="autoscaling.launch_configurations",
        service="autoscaling",
        tables=(LAUNCH_CONFIGURATIONS, EXPOSURES),
        permissions=("autoscaling:DescribeLaunchConfigurations",),
        fetch=fetch_launch_configurations,
        description="Launch configurations: IMDS options, public IPs; user data secrets.",
    )
)
