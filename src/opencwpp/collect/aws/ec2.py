"""EC2 security groups, and their rules exploded into one row per rule and source/destination.

`cwpp_aws_ec2_security_group_rules` is our own derived table: one row per permission x CIDR /
IPv6 CIDR / referenced group / prefix list, so checks never walk the JSON arrays.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from opencwpp.collect.base import (
    PAGE_SIZE,
    Resource,
    Row,
    Rows,
    SessionContext,
    pages,
    partition_of,
    register,
    tags_dict,
)
from opencwpp.lake.schema import INT64, JSON, cq_id, table

SECURITY_GROUPS = table(
    "aws_ec2_security_groups",
    [
        "account_id",
        "region",
        "arn",
        ("tags", JSON),
        "description",
        "group_id",
        "group_name",
        ("ip_permissions", JSON),
        ("ip_permissions_egress", JSON),
        "owner_id",
        "vpc_id",
    ],
    cq_id_from=["account_id", "arn"],
)
SECURITY_GROUP_RULES = table(
    "cwpp_aws_ec2_security_group_rules",
    [
        "account_id",
        "region",
        "group_arn",
        "group_id",
        "direction",
        "ip_protocol",
        ("from_port", INT64),
        ("to_port", INT64),
        "cidr_ipv4",
        "cidr_ipv6",
        "referenced_group_id",
        "prefix_list_id",
        "description",
    ],
    cq_id_from=[
        "group_arn",
        "direction",
        "ip_protocol",
        "from_port",
        "to_port",
        "cidr_ipv4",
        "cidr_ipv6",
        "referenced_group_id",
        "prefix_list_id",
    ],
    parent="aws_ec2_security_groups",
    indexes=[("group_arn",), ("group_id",)],
    description="One row per security group rule and CIDR / IPv6 CIDR / group / prefix list.",
)
_TARGETS = (
    ("IpRanges", "CidrIp", "cidr_ipv4"),
    ("Ipv6Ranges", "CidrIpv6", "cidr_ipv6"),
    ("UserIdGroupPairs", "GroupId", "referenced_group_id"),
    ("PrefixListIds", "PrefixListId", "prefix_list_id"),
)


def explode_rules(group: Row, direction: str, permissions: list[Mapping[str, Any]]) -> list[Row]:
    """One rule row per permission and target; all ports (protocol '-1') leave ports NULL."""
    rows: list[Row] = []
    for perm in permissions:
        protocol = str(perm.get("IpProtocol", "-1"))
        all_ports = protocol == "-1"
        base: Row = {
            "_cq_parent_id": group["_cq_id"],
            "account_id": group["account_id"],
            "region": group["region"],
            "group_arn": group["arn"],
            "group_id": group["group_id"],
            "direction": direction,
            "ip_protocol": protocol,
            "from_port": None if all_ports else perm.get("FromPort"),
            "to_port": None if all_ports else perm.get("ToPort"),
            "cidr_ipv4": None,
            "cidr_ipv6": None,
            "referenced_group_id": None,
            "prefix_list_id": None,
        }
        for list_key, item_key, column in _TARGETS:
            for target in perm.get(list_key) or []:
                row = {
                    **base,
                    column: target.get(item_key),
                    "description": target.get("Description"),
                }
                row["_cq_id"] = cq_id(row, SECURITY_GROUP_RULES.cq_id_from)
                rows.append(row)
    return rows


def transform_security_group(account_id: str, region: str, sg: Mapping[str, Any]) -> Rows:
    """The security group row and its exploded rule rows."""
    owner = str(sg.get("OwnerId") or account_id)
    arn = sg.get("SecurityGroupArn") or (
        f"arn:{partition_of(region)}:ec2:{region}:{owner}:security-group/{sg['GroupId']}"
    )
    group: Row = {
        "account_id": account_id,
        "region": region,
        "arn": arn,
        "tags": tags_dict(sg.get("Tags")),
        "description": sg.get("Description"),
        "group_id": sg.get("GroupId"),
        "group_name": sg.get("GroupName"),
        "ip_permissions": list(sg.get("IpPermissions") or []),
        "ip_permissions_egress": list(sg.get("IpPermissionsEgress") or []),
        "owner_id": sg.get("OwnerId"),
        "vpc_id": sg.get("VpcId"),
    }
    group["_cq_id"] = cq_id(group, SECURITY_GROUPS.cq_id_from)
    rules = explode_rules(group, "ingress", group["ip_permissions"])
    rules += explode_rules(group, "egress", group["ip_permissions_egress"])
    return {SECURITY_GROUPS: [group], SECURITY_GROUP_RULES: rules}


def fetch_security_groups(ctx: SessionContext, region: str | None) -> Iterator[Rows]:
    """Every security group of one region with its rules, a page at a time."""
    if region is None:
        raise ValueError("ec2.security_groups is regional: a region is required")
    ec2 = ctx.client("ec2", region)
    paging = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    for page in pages(ec2, "describe_security_groups", "SecurityGroups", **paging):
        out: Rows = {SECURITY_GROUPS: [], SECURITY_GROUP_RULES: []}
        for sg in page:
            for tbl, rows in transform_security_group(ctx.account_id, region, sg).items():
                out[tbl].extend(rows)
        yield out


register(
    Resource(
        name="ec2.security_groups",
        service="ec2",
        tables=(SECURITY_GROUPS, SECURITY_GROUP_RULES),
        permissions=("ec2:DescribeSecurityGroups",),
        fetch=fetch_security_groups,
        description="Security groups and their ingress/egress rules, one row per rule target.",
    )
)
