"""ELBv2 (application, network, gateway) load balancers, their attributes and listeners.

Listeners carry the TLS policy (`ssl_policy`) and certificates; attributes carry access logging,
deletion protection and header handling as key/value rows.
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
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

LOAD_BALANCERS = table(
    "aws_elbv2_load_balancers",
    columns(
        """
        account_id region tags:json arn availability_zones:json canonical_hosted_zone_id
        created_time:ts customer_owned_ipv4_pool dns_name
        enforce_security_group_inbound_rules_on_private_link_traffic ip_address_type
        load_balancer_arn load_balancer_name scheme security_groups:list state:json type vpc_id
        """
    ),
    cq_id_from=["arn"],
)
LISTENERS = table(
    "aws_elbv2_listeners",
    columns(
        """
        account_id region arn tags:json alpn_policy:list certificates:json default_actions:json
        listener_arn load_balancer_arn mutual_authentication:json port:int protocol ssl_policy
        """
    ),
    cq_id_from=["arn"],
    parent="aws_elbv2_load_balancers",
)
ATTRIBUTES = table(
    "aws_elbv2_load_balancer_attributes",
    columns("account_id region load_balancer_arn key value"),
    cq_id_from=["load_balancer_arn", "key"],
    parent="aws_elbv2_load_balancers",
)
LB_TABLES = (LOAD_BALANCERS, LISTENERS, ATTRIBUTES)
_TAG_BATCH = 20  # DescribeTags takes at most 20 ARNs.


def transform_load_balancer(account_id: str, region: str, details: Mapping[str, Any]) -> Rows:
    """Rows of one load balancer: itself, its attributes and its listeners."""
    lb = details["load_balancer"]
    lb_arn = lb["LoadBalancerArn"]
    tags = details.get("tags", {})
    base: dict[str, Any] = {"account_id": account_id, "region": region}
    parent = with_ids(
        LOAD_BALANCERS,
        shape(LOAD_BALANCERS, lb, arn=lb_arn, tags=tags_of(tags.get(lb_arn, [])), **base),
    )
    out = empty(LB_TABLES)
    out[LOAD_BALANCERS].append(parent)
    for attribute in details.get("attributes", []):
        row = shape(ATTRIBUTES, attribute, load_balancer_arn=lb_arn, **base)
        out[ATTRIBUTES].append(with_ids(ATTRIBUTES, row, parent))
    for listener in details.get("listeners", []):
        listener_arn = listener["ListenerArn"]
        row = shape(
            LISTENERS, listener, arn=listener_arn, tags=tags_of(tags.get(listener_arn, [])), **base
        )
        out[LISTENERS].append(with_ids(LISTENERS, row, parent))
    return out


def _tags(elb: Any, arns: list[str]) -> dict[str, list[Mapping[str, Any]]]:
    tags: dict[str, list[Mapping[str, Any]]] = {}
    for start in range(0, len(arns), _TAG_BATCH):
        answer = elb.describe_tags(ResourceArns=arns[start : start + _TAG_BATCH])
        for description in answer.get("TagDescriptions", []):
            tags[description["ResourceArn"]] = description.get("Tags", [])
    return tags


def fetch_load_balancers(ctx: SessionContext, region: str | None) -> Rows:
    """Every ELBv2 load balancer of one region with its attributes, listeners and tags."""
    region = need_region("elbv2.load_balancers", region)
    elb = ctx.client("elbv2", region)
    out = empty(LB_TABLES)
    balancers = paginate(elb, "describe_load_balancers", "LoadBalancers")
    listeners = {
        lb["LoadBalancerArn"]: paginate(
            elb, "describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"]
        )
        for lb in balancers
    }
    arns = [*listeners, *(li["ListenerArn"] for items in listeners.values() for li in items)]
    tags = _tags(elb, arns)
    for lb in balancers:
        lb_arn = lb["LoadBalancerArn"]
        attributes = elb.describe_load_balancer_attributes(LoadBalancerArn=lb_arn)
        details = {
            "load_balancer": lb,
            "listeners": listeners[lb_arn],
            "attributes": attributes.get("Attributes", []),
            "tags": tags,
        }
        extend(out, transform_load_balancer(ctx.account_id, region, details))
    return out


register(
    Resource(
        name="elbv2.load_balancers",
        service="elbv2",
        tables=LB_TABLES,
        permissions=(
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
        ),
        fetch=fetch_load_balancers,
        description="ELBv2 load balancers: scheme, attributes, listeners and TLS policies.",
    )
)
