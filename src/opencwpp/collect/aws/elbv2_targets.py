"""ELBv2 target groups with their targets' health, and listener rules.

Listener rules complete what `aws_elbv2_listeners.default_actions` says: a listener whose default
action redirects to HTTPS may still forward some paths over HTTP through a rule. Rule conditions
on HTTP headers and query strings are often shared secrets (an origin-verification header set by
CloudFront), and authenticate-oidc actions may name a client secret: those values are stored as
fingerprints only.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from opencwpp.collect.aws._secrets import fingerprint
from opencwpp.collect.aws._shape import (
    columns,
    empty,
    extend,
    need_region,
    shape,
    tags_of,
    with_ids,
)
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import cq_id, table

TARGET_GROUPS = table(
    "aws_elbv2_target_groups",
    columns(
        """
        account_id region tags:json arn health_check_enabled:bool
        health_check_interval_seconds:int health_check_path health_check_port
        health_check_protocol health_check_timeout_seconds:int healthy_threshold_count:int
        ip_address_type load_balancer_arns:list matcher:json port:int protocol protocol_version
        target_group_arn target_group_name target_type unhealthy_threshold_count:int vpc_id
        """
    ),
    cq_id_from=["arn"],
)
TARGET_HEALTH = table(
    "aws_elbv2_target_group_target_health_descriptions",
    columns(
        """
        account_id region target_group_arn anomaly_detection:json health_check_port target_id
        target_availability_zone target_port:int target_health:json
        """
    ),
    cq_id_from=["target_group_arn", "target_id", "target_port"],
    parent="aws_elbv2_target_groups",
)
LISTENER_RULES = table(
    "aws_elbv2_listener_rules",
    columns(
        """
        account_id region listener_arn arn actions:json conditions:json is_default:bool priority
        rule_arn
        """
    ),
    cq_id_from=["arn"],
    parent="aws_elbv2_listeners",
)
TARGET_TABLES = (TARGET_GROUPS, TARGET_HEALTH)
_TAG_BATCH = 20  # DescribeTags takes at most 20 ARNs.
_SECRET_CONDITIONS = {"http-header": "HttpHeaderConfig", "query-string": "QueryStringConfig"}


def transform_target_group(
    account_id: str,
    region: str,
    group: Mapping[str, Any],
    tags: Sequence[Mapping[str, Any]],
    health: Sequence[Mapping[str, Any]],
) -> Rows:
    """The target group row and one row per registered target with its health."""
    group_arn = str(group["TargetGroupArn"])
    base: dict[str, Any] = {"account_id": account_id, "region": region}
    parent = with_ids(
        TARGET_GROUPS, shape(TARGET_GROUPS, group, arn=group_arn, tags=tags_of(tags), **base)
    )
    rows: list[Row] = []
    for description in health:
        target = description.get("Target") or {}
        row = shape(
            TARGET_HEALTH,
            description,
            target_group_arn=group_arn,
            target_id=target.get("Id"),
            target_port=target.get("Port"),
            target_availability_zone=target.get("AvailabilityZone"),
            **base,
        )
        rows.append(with_ids(TARGET_HEALTH, row, parent))
    return {TARGET_GROUPS: [parent], TARGET_HEALTH: rows}


def _tags(elb: Any, arns: list[str]) -> dict[str, list[Mapping[str, Any]]]:
    tags: dict[str, list[Mapping[str, Any]]] = {}
    for start in range(0, len(arns), _TAG_BATCH):
        answer = elb.describe_tags(ResourceArns=arns[start : start + _TAG_BATCH])
        for description in answer.get("TagDescriptions", []):
            tags[description["ResourceArn"]] = description.get("Tags", [])
    return tags


def fetch_target_groups(ctx: SessionContext, region: str | None) -> Rows:
    """Every target group of one region with its tags and its targets' health."""
    region = need_region("elbv2.target_groups", region)
    elb = ctx.client("elbv2", region)
    out = empty(TARGET_TABLES)
    groups = paginate(elb, "describe_target_groups", "TargetGroups")
    tags = _tags(elb, [g["TargetGroupArn"] for g in groups])
    for group in groups:
        group_arn = group["TargetGroupArn"]
        health = elb.describe_target_health(TargetGroupArn=group_arn)
        rows = transform_target_group(
            ctx.account_id,
            region,
            group,
            tags.get(group_arn, []),
            health.get("TargetHealthDescriptions", []),
        )
        extend(out, rows)
    return out


def redact_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a rule with header/query-string condition values and client secrets hashed."""
    clean = copy.deepcopy(dict(rule))
    for condition in clean.get("Conditions") or []:
        key = _SECRET_CONDITIONS.get(str(condition.get("Field")))
        if key is None:
            continue
        config = condition.get(key) or {}
        values = config.get("Values") or []
        config["Values"] = [
            {**v, "Value": fingerprint(str(v.get("Value", "")))}
            if isinstance(v, dict)
            else fingerprint(str(v))
            for v in values
        ]
        if condition.get("Values"):
            condition["Values"] = [fingerprint(str(v)) for v in condition["Values"]]
    for action in clean.get("Actions") or []:
        oidc = action.get("AuthenticateOidcConfig") or {}
        if oidc.get("ClientSecret"):
            oidc["ClientSecret"] = fingerprint(str(oidc["ClientSecret"]))
    return clean


def transform_rule(account_id: str, region: str, listener_arn: str, rule: Mapping[str, Any]) -> Row:
    """The row of one listener rule (secret-bearing values hashed)."""
    clean = redact_rule(rule)
    row = shape(
        LISTENER_RULES,
        clean,
        account_id=account_id,
        region=region,
        listener_arn=listener_arn,
        arn=clean["RuleArn"],
    )
    # The parent listener's `_cq_id` derives from its ARN alone (cq_id_from = ["arn"]).
    return with_ids(LISTENER_RULES, row, {"_cq_id": cq_id({"arn": listener_arn}, ["arn"])})


def fetch_listener_rules(ctx: SessionContext, region: str | None) -> Rows:
    """Every rule (the default one included) of every listener of one region."""
    region = need_region("elbv2.listener_rules", region)
    elb = ctx.client("elbv2", region)
    rows: list[Row] = []
    for lb in paginate(elb, "describe_load_balancers", "LoadBalancers"):
        arn = lb["LoadBalancerArn"]
        for listener in paginate(elb, "describe_listeners", "Listeners", LoadBalancerArn=arn):
            listener_arn = listener["ListenerArn"]
            for rule in paginate(elb, "describe_rules", "Rules", ListenerArn=listener_arn):
                rows.append(transform_rule(ctx.account_id, region, listener_arn, rule))
    return {LISTENER_RULES: rows}


register(
    Resource(
        name="elbv2.target_groups",
        service="elbv2",
        tables=TARGET_TABLES,
        permissions=(
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeTargetHealth",
        ),
        fetch=fetch_target_groups,
        description="ELBv2 target groups: protocol, health checks and the targets' health.",
    )
)
register(
    Resource(
        name="elbv2.listener_rules",
        service="elbv2",
        tables=(LISTENER_RULES,),
        permissions=(
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeRules",
        ),
        fetch=fetch_listener_rules,
        description="ELBv2 listener rules: conditions and actions (secret values hashed).",
    )
)
