"""Classic load balancers (ELB v1): the load balancer, its attributes, policies and listeners.

The listeners are also rows of `cwpp_aws_elbv1_listeners` (one per listener), each with the SSL
negotiation policy attached to it resolved from the load balancer's policies: its reference
security policy (e.g. `ELBSecurityPolicy-TLS-1-2-2017-01`) and the protocols it enables, so checks
never walk `listener_descriptions` or `policy_attribute_descriptions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opencwpp.collect.aws._shape import (
    arn,
    columns,
    empty,
    extend,
    need_region,
    shape,
    tags_of,
    with_ids,
)
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

LOAD_BALANCERS = table(
    "aws_elbv1_load_balancers",
    columns(
        """
        account_id region arn availability_zones:list backend_server_descriptions:json
        canonical_hosted_zone_name canonical_hosted_zone_name_id created_time:ts dns_name
        health_check:json instances:json listener_descriptions:json load_balancer_name
        policies:json scheme security_groups:list source_security_group:json subnets:list vpc_id
        tags:json attributes:json
        """
    ),
    cq_id_from=["arn"],
)
POLICIES = table(
    "aws_elbv1_load_balancer_policies",
    columns(
        """
        account_id region load_balancer_arn load_balancer_name
        policy_attribute_descriptions:json policy_name policy_type_name
        """
    ),
    cq_id_from=["load_balancer_arn", "policy_name"],
    parent="aws_elbv1_load_balancers",
)
LISTENERS = table(
    "cwpp_aws_elbv1_listeners",
    columns(
        """
        account_id region load_balancer_arn load_balancer_name scheme protocol
        load_balancer_port:int instance_protocol instance_port:int ssl_certificate_id
        policy_names:list ssl_policy_name reference_security_policy ssl_protocols
        """
    ),
    cq_id_from=["load_balancer_arn", "load_balancer_port"],
    parent="aws_elbv1_load_balancers",
    indexes=[("load_balancer_arn",)],
    description=(
        "One row per classic load balancer listener, with its SSL negotiation policy (name, "
        "reference security policy, enabled protocols comma-separated, e.g. 'TLSv1.1,TLSv1.2')."
    ),
)
ELBV1_TABLES = (LOAD_BALANCERS, POLICIES, LISTENERS)
_SSL_POLICY_TYPE = "SSLNegotiationPolicyType"
_TAG_BATCH = 20  # DescribeTags takes at most 20 load balancer names.


def _ssl_facts(policy: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(reference security policy, enabled protocols) of an SSL negotiation policy."""
    if policy is None:
        return None, None
    reference = None
    protocols = []
    for attribute in policy.get("PolicyAttributeDescriptions") or []:
        name = str(attribute.get("AttributeName") or "")
        value = str(attribute.get("AttributeValue") or "")
        if name == "Reference-Security-Policy":
            reference = value or None
        elif name.startswith("Protocol-") and value.lower() == "true":
            protocols.append(name.removeprefix("Protocol-"))
    return reference, ",".join(sorted(protocols)) or None


def listener_rows(
    parent: Row, descriptions: Sequence[Mapping[str, Any]], policies: Sequence[Mapping[str, Any]]
) -> list[Row]:
    """One row per listener, its SSL negotiation policy resolved by name."""
    ssl_policies = {
        str(p.get("PolicyName")): p for p in policies if p.get("PolicyTypeName") == _SSL_POLICY_TYPE
    }
    rows = []
    for description in descriptions:
        listener = description.get("Listener") or {}
        names = [str(n) for n in description.get("PolicyNames") or []]
        ssl_name = next((n for n in names if n in ssl_policies), None)
        reference, protocols = _ssl_facts(ssl_policies.get(ssl_name) if ssl_name else None)
        row: Row = {
            "account_id": parent["account_id"],
            "region": parent["region"],
            "load_balancer_arn": parent["arn"],
            "load_balancer_name": parent["load_balancer_name"],
            "scheme": parent["scheme"],
            "protocol": listener.get("Protocol"),
            "load_balancer_port": listener.get("LoadBalancerPort"),
            "instance_protocol": listener.get("InstanceProtocol"),
            "instance_port": listener.get("InstancePort"),
            "ssl_certificate_id": listener.get("SSLCertificateId"),
            "policy_names": names,
            "ssl_policy_name": ssl_name,
            "reference_security_policy": reference,
            "ssl_protocols": protocols,
        }
        rows.append(with_ids(LISTENERS, row, parent))
    return rows


def transform_load_balancer(account_id: str, region: str, details: Mapping[str, Any]) -> Rows:
    """Rows of one classic load balancer: itself, its policies and its listeners."""
    lb = details["load_balancer"]
    name = str(lb["LoadBalancerName"])
    lb_arn = arn("elasticloadbalancing", region, account_id, f"loadbalancer/{name}")
    base: dict[str, Any] = {"account_id": account_id, "region": region}
    parent = with_ids(
        LOAD_BALANCERS,
        shape(
            LOAD_BALANCERS,
            lb,
            arn=lb_arn,
            tags=tags_of(details.get("tags")),
            attributes=details.get("attributes"),
            **base,
        ),
    )
    out = empty(ELBV1_TABLES)
    out[LOAD_BALANCERS].append(parent)
    policies = list(details.get("policies") or [])
    for policy in policies:
        row = shape(POLICIES, policy, load_balancer_arn=lb_arn, load_balancer_name=name, **base)
        out[POLICIES].append(with_ids(POLICIES, row, parent))
    out[LISTENERS] = listener_rows(parent, lb.get("ListenerDescriptions") or [], policies)
    return out


def _tags(elb: Any, names: list[str]) -> dict[str, list[Mapping[str, Any]]]:
    tags: dict[str, list[Mapping[str, Any]]] = {}
    for start in range(0, len(names), _TAG_BATCH):
        answer = elb.describe_tags(LoadBalancerNames=names[start : start + _TAG_BATCH])
        for description in answer.get("TagDescriptions", []):
            tags[description["LoadBalancerName"]] = description.get("Tags", [])
    return tags


def fetch_load_balancers(ctx: SessionContext, region: str | None) -> Rows:
    """Every classic load balancer of one region with its tags, attributes and policies."""
    region = need_region("elbv1.load_balancers", region)
    elb = ctx.client("elb", region)
    out = empty(ELBV1_TABLES)
    balancers = paginate(elb, "describe_load_balancers", "LoadBalancerDescriptions")
    tags = _tags(elb, [lb["LoadBalancerName"] for lb in balancers])
    for lb in balancers:
        name = lb["LoadBalancerName"]
        attributes = elb.describe_load_balancer_attributes(LoadBalancerName=name)
        policies = elb.describe_load_balancer_policies(LoadBalancerName=name)
        details = {
            "load_balancer": lb,
            "tags": tags.get(name, []),
            "attributes": attributes.get("LoadBalancerAttributes"),
            "policies": policies.get("PolicyDescriptions", []),
        }
        extend(out, transform_load_balancer(ctx.account_id, region, details))
    return out


register(
    Resource(
        name="elbv1.load_balancers",
        service="elbv1",
        tables=ELBV1_TABLES,
        permissions=(
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeLoadBalancerPolicies",
        ),
        fetch=fetch_load_balancers,
        description="Classic load balancers: listeners, SSL negotiation policies, access logs.",
    )
)
