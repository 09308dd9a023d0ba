"""EC2 instances: IMDS settings, public IPs, instance profile; user data scanned, never stored.

The user data of each instance is read (DescribeInstanceAttribute), scanned for secrets and
dropped: only `cwpp_aws_secret_exposures` rows (location, kind, fingerprint) reach the lake.
The security groups of the instance and of each network interface are split into rows of
`cwpp_aws_ec2_instance_security_groups`, so checks never walk the JSON lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from opencwpp.collect.aws._secrets import (
    EXPOSURES,
    decode_user_data,
    exposure_rows,
    scan_text,
)
from opencwpp.collect.aws._shape import arn, columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import (
    PAGE_SIZE,
    Resource,
    Row,
    Rows,
    SessionContext,
    optional,
    pages,
    register,
)
from opencwpp.lake.schema import cq_id, table

INSTANCES = table(
    "aws_ec2_instances",
    columns(
        """
        account_id region arn state_transition_reason_time:ts tags:json ami_launch_index:int
        architecture block_device_mappings:json boot_mode capacity_reservation_id
        capacity_reservation_specification:json client_token cpu_options:json
        current_instance_boot_mode ebs_optimized:bool elastic_gpu_associations:json
        elastic_inference_accelerator_associations:json ena_support:bool enclave_options:json
        hibernation_options:json hypervisor iam_instance_profile:json image_id instance_id
        instance_lifecycle instance_type ipv6_address kernel_id key_name launch_time:ts
        licenses:json maintenance_options:json metadata_options:json monitoring:json
        network_interfaces:json outpost_arn placement:json platform platform_details
        private_dns_name private_dns_name_options:json private_ip_address product_codes:json
        public_dns_name public_ip_address ramdisk_id root_device_name root_device_type
        security_groups:json source_dest_check:bool spot_instance_request_id sriov_net_support
        state:json state_reason:json state_transition_reason subnet_id tpm_support usage_operation
        usage_operation_update_time:ts virtualization_type vpc_id
        """
    ),
    cq_id_from=["arn"],
)
INSTANCE_SECURITY_GROUPS = table(
    "cwpp_aws_ec2_instance_security_groups",
    columns("account_id region instance_arn instance_id network_interface_id group_id"),
    cq_id_from=["instance_arn", "network_interface_id", "group_id"],
    parent="aws_ec2_instances",
    indexes=[("instance_arn",), ("group_id",)],
    description=(
        "One row per security group of an instance (network_interface_id NULL) and of each of "
        "its network interfaces."
    ),
)
_REASON_TIME = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) GMT\)")
_GONE = frozenset({"InvalidInstanceID.NotFound"})


def reason_time(reason: str | None) -> datetime | None:
    """The time in a StateTransitionReason like 'User initiated (2024-01-02 03:04:05 GMT)'."""
    match = _REASON_TIME.search(reason or "")
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def instance_security_groups(parent: Row, instance: Mapping[str, Any]) -> list[Row]:
    """Rows for the instance's `SecurityGroups` and each network interface's `Groups`."""
    pairs: list[tuple[str | None, Any]] = [(None, g) for g in instance.get("SecurityGroups") or []]
    for eni in instance.get("NetworkInterfaces") or []:
        pairs += [(eni.get("NetworkInterfaceId"), g) for g in eni.get("Groups") or []]
    rows: dict[str, Row] = {}
    for eni_id, group in pairs:
        if not isinstance(group, Mapping) or not group.get("GroupId"):
            continue
        row: Row = {
            "_cq_parent_id": parent.get("_cq_id"),
            "account_id": parent["account_id"],
            "region": parent["region"],
            "instance_arn": parent["arn"],
            "instance_id": parent["instance_id"],
            "network_interface_id": eni_id,
            "group_id": group["GroupId"],
        }
        row["_cq_id"] = cq_id(row, INSTANCE_SECURITY_GROUPS.cq_id_from)
        rows.setdefault(row["_cq_id"], row)
    return list(rows.values())


def transform_instance(
    account_id: str, region: str, instance: Mapping[str, Any], user_data: str | None
) -> Rows:
    """The instance row, its security group rows, and exposure rows for secrets in user data."""
    instance_arn = arn("ec2", region, account_id, f"instance/{instance['InstanceId']}")
    row = shape(
        INSTANCES,
        instance,
        account_id=account_id,
        region=region,
        arn=instance_arn,
        state_transition_reason_time=reason_time(instance.get("StateTransitionReason")),
    )
    found = scan_text(decode_user_data(user_data), "ec2.user_data")
    parent = with_ids(INSTANCES, row)
    return {
        INSTANCES: [parent],
        INSTANCE_SECURITY_GROUPS: instance_security_groups(parent, instance),
        EXPOSURES: exposure_rows(
            found,
            account_id=account_id,
            region=region,
            source_table=INSTANCES.name,
            resource_arn=instance_arn,
        ),
    }


def fetch_instances(ctx: SessionContext, region: str | None) -> Iterator[Rows]:
    """Every instance of one region, a page at a time; user data scanned, then dropped."""
    region = need_region("ec2.instances", region)
    ec2 = ctx.client("ec2", region)
    paging = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    for page in pages(ec2, "describe_instances", "Reservations", **paging):
        out = empty([INSTANCES, INSTANCE_SECURITY_GROUPS, EXPOSURES])
        for reservation in page:
            for instance in reservation.get("Instances", []):
                answer = optional(
                    ec2.describe_instance_attribute,
                    absent=_GONE,
                    InstanceId=instance["InstanceId"],
                    Attribute="userData",
                )
                encoded = ((answer or {}).get("UserData") or {}).get("Value")
                extend(out, transform_instance(ctx.account_id, region, instance, encoded))
        yield out


register(
    Resource(
        name="ec2.instances",
        service="ec2",
        tables=(INSTANCES, INSTANCE_SECURITY_GROUPS, EXPOSURES),
        permissions=("ec2:DescribeInstances", "ec2:DescribeInstanceAttribute"),
        fetch=fetch_instances,
        description="EC2 instances: IMDS options, public IPs, instance profile; user data secrets.",
    )
)
