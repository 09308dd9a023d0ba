"""VPC endpoints, with the endpoint policy split into statement rows.

An endpoint policy limits what may pass through the endpoint (which principals, actions and
resources); the default one allows everything. The policy text is kept as CloudQuery keeps it
(`policy_document`, a string) and also split with `policies.split_policy`, so checks read
statements as rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import arn, columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, split_policy
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

VPC_ENDPOINTS = table(
    "aws_ec2_vpc_endpoints",
    columns(
        """
        account_id region arn tags:json creation_timestamp:ts dns_entries:json dns_options:json
        groups:json ip_address_type last_error:json network_interface_ids:list owner_id
        policy_document private_dns_enabled:bool requester_managed:bool route_table_ids:list
        service_name state subnet_ids:list vpc_endpoint_id vpc_endpoint_type vpc_id
        """
    ),
    cq_id_from=["account_id", "arn"],
)
ENDPOINT_TABLES = (VPC_ENDPOINTS, *POLICY_TABLES)


def transform_vpc_endpoint(account_id: str, region: str, item: Mapping[str, Any]) -> Rows:
    """The endpoint row and its policy's statement rows."""
    owner = str(item.get("OwnerId") or account_id)
    endpoint_arn = arn("ec2", region, owner, f"vpc-endpoint/{item['VpcEndpointId']}")
    row = shape(VPC_ENDPOINTS, item, account_id=account_id, region=region, arn=endpoint_arn)
    out = empty(ENDPOINT_TABLES)
    out[VPC_ENDPOINTS].append(with_ids(VPC_ENDPOINTS, row))
    policy = item.get("PolicyDocument")
    if policy:
        split = split_policy(
            policy,
            account_id=account_id,
            source_table=VPC_ENDPOINTS.name,
            source_arn=endpoint_arn,
        )
        extend(out, split)
    return out


def fetch_vpc_endpoints(ctx: SessionContext, region: str | None) -> Rows:
    """Every VPC endpoint of one region with its policy statements."""
    region = need_region("ec2.vpc_endpoints", region)
    out = empty(ENDPOINT_TABLES)
    for item in paginate(ctx.client("ec2", region), "describe_vpc_endpoints", "VpcEndpoints"):
        extend(out, transform_vpc_endpoint(ctx.account_id, region, item))
    return out


register(
    Resource(
        name="ec2.vpc_endpoints",
        service="ec2",
        tables=ENDPOINT_TABLES,
        permissions=("ec2:DescribeVpcEndpoints",),
        fetch=fetch_vpc_endpoints,
        description="VPC endpoints: type, service, network placement and endpoint policy.",
    )
)
