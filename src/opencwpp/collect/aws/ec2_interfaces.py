"""EC2 network interfaces (with their security groups as rows) and NAT gateways.

A network interface carries the public address (`association.PublicIp`) of whatever it belongs to
(an instance, a load balancer node, a NAT gateway, an ECS task ...), so exposure questions can be
asked of every resource that has one, not only of instances. Its security groups are also rows of
`cwpp_aws_ec2_network_interface_security_groups`, so checks never walk the `groups` JSON list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from opencwpp.collect.aws._shape import arn, columns, empty, need_region, shape, tags_of, with_ids
from opencwpp.collect.base import (
    PAGE_SIZE,
    Resource,
    Row,
    Rows,
    SessionContext,
    pages,
    paginate,
    register,
)
from opencwpp.lake.schema import table

NETWORK_INTERFACES = table(
    "aws_ec2_network_interfaces",
    columns(
        """
        account_id region arn tags:json association:json attachment:json availability_zone
        connection_tracking_configuration:json deny_all_igw_traffic:bool description groups:json
        interface_type ipv4_prefixes:json ipv6_address ipv6_addresses:json ipv6_native:bool
        ipv6_prefixes:json mac_address network_interface_id outpost_arn owner_id private_dns_name
        private_ip_address private_ip_addresses:json requester_id requester_managed:bool
        source_dest_check:bool status subnet_id vpc_id
        """
    ),
    cq_id_from=["account_id", "arn"],
)
INTERFACE_GROUPS = table(
    "cwpp_aws_ec2_network_interface_security_groups",
    columns(
        """
        account_id region network_interface_arn network_interface_id vpc_id public_ip group_id
        group_name
        """
    ),
    cq_id_from=["network_interface_arn", "group_id"],
    parent="aws_ec2_network_interfaces",
    indexes=[("network_interface_arn",), ("group_id",)],
    description=(
        "One row per security group of a network interface, with the interface's public IPv4 "
        "address (NULL when it has none)."
    ),
)
NAT_GATEWAYS = table(
    "aws_ec2_nat_gateways",
    columns(
        """
        account_id region arn tags:json connectivity_type create_time:ts delete_time:ts
        failure_code failure_message nat_gateway_addresses:json nat_gateway_id
        provisioned_bandwidth:json state subnet_id vpc_id
        """
    ),
    cq_id_from=["arn"],
)
INTERFACE_TABLES = (NETWORK_INTERFACES, INTERFACE_GROUPS)


def transform_network_interface(account_id: str, region: str, item: Mapping[str, Any]) -> Rows:
    """The interface row and one row per security group it is in."""
    owner = str(item.get("OwnerId") or account_id)
    eni_id = str(item["NetworkInterfaceId"])
    eni_arn = arn("ec2", region, owner, f"network-interface/{eni_id}")
    parent = with_ids(
        NETWORK_INTERFACES,
        shape(
            NETWORK_INTERFACES,
            item,
            account_id=account_id,
            region=region,
            arn=eni_arn,
            # DescribeNetworkInterfaces names the tags `TagSet`.
            tags=tags_of(item.get("TagSet", item.get("Tags"))),
        ),
    )
    public_ip = (item.get("Association") or {}).get("PublicIp") or None
    groups: list[Row] = []
    for group in item.get("Groups") or []:
        row: Row = {
            "account_id": account_id,
            "region": region,
            "network_interface_arn": eni_arn,
            "network_interface_id": eni_id,
            "vpc_id": item.get("VpcId"),
            "public_ip": public_ip,
            "group_id": group.get("GroupId"),
            "group_name": group.get("GroupName"),
        }
        groups.append(with_ids(INTERFACE_GROUPS, row, parent))
    return {NETWORK_INTERFACES: [parent], INTERFACE_GROUPS: groups}


def fetch_network_interfaces(ctx: SessionContext, region: str | None) -> Iterator[Rows]:
    """Every network interface of one region, a page at a time, with its security groups."""
    region = need_region("ec2.network_interfaces", region)
    ec2 = ctx.client("ec2", region)
    paging = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    for page in pages(ec2, "describe_network_interfaces", "NetworkInterfaces", **paging):
        out = empty(INTERFACE_TABLES)
        for item in page:
            for tbl, rows in transform_network_interface(ctx.account_id, region, item).items():
                out[tbl].extend(rows)
        yield out


def transform_nat_gateway(account_id: str, region: str, item: Mapping[str, Any]) -> Row:
    """The row of one NAT gateway (ARN as CloudQuery builds it: `natgateway/<id>`)."""
    gateway_arn = arn("ec2", region, account_id, f"natgateway/{item['NatGatewayId']}")
    row = shape(NAT_GATEWAYS, item, account_id=account_id, region=region, arn=gateway_arn)
    return with_ids(NAT_GATEWAYS, row)


def fetch_nat_gateways(ctx: SessionContext, region: str | None) -> Rows:
    """Every NAT gateway of one region (deleted ones stay listed for about an hour)."""
    region = need_region("ec2.nat_gateways", region)
    ec2 = ctx.client("ec2", region)
    items = paginate(ec2, "describe_nat_gateways", "NatGateways")
    return {NAT_GATEWAYS: [transform_nat_gateway(ctx.account_id, region, i) for i in items]}


register(
    Resource(
        name="ec2.network_interfaces",
        service="ec2",
        tables=INTERFACE_TABLES,
        permissions=("ec2:DescribeNetworkInterfaces",),
        fetch=fetch_network_interfaces,
        description="EC2 network interfaces: public addresses, attachments, security groups.",
    )
)
register(
    Resource(
        name="ec2.nat_gateways",
        service="ec2",
        tables=(NAT_GATEWAYS,),
        permissions=("ec2:DescribeNatGateways",),
        fetch=fetch_nat_gateways,
        description="EC2 NAT gateways: connectivity type, addresses, state.",
    )
)
