"""SNS topics (attributes, encryption, the access policy split into statements) and subscriptions.

Subscriptions are the last link of the CIS section 4 alarm chain: an alarm's topic must have a
confirmed one. HTTP(S) endpoints can carry credentials (a webhook's token in its path or query),
so only their scheme and host land in the lake, with a fingerprint of the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from opencwpp.collect.aws._secrets import fingerprint
from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, snake, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, split_policy
from opencwpp.collect.base import Resource, Rows, SessionContext, optional, paginate, register
from opencwpp.lake.schema import Table, cq_id, table

TOPICS = table(
    "aws_sns_topics",
    columns(
        """
        account_id region arn tags:json delivery_policy:json policy:json
        effective_delivery_policy:json display_name owner subscriptions_confirmed:int
        subscriptions_deleted:int subscriptions_pending:int kms_master_key_id fifo_topic:bool
        content_based_deduplication:bool unknown_fields:json
        """
    ),
    cq_id_from=["arn"],
)
SUBSCRIPTIONS = table(
    "aws_sns_subscriptions",
    columns(
        """
        account_id region arn delivery_policy:json effective_delivery_policy:json
        filter_policy:json redrive_policy:json endpoint owner protocol subscription_arn topic_arn
        confirmation_was_authenticated:bool pending_confirmation:bool raw_message_delivery:bool
        subscription_role_arn unknown_fields:json
        """
    ),
    cq_id_from=["arn"],
)
_GONE = frozenset({"NotFound", "NotFoundException"})
# What ListSubscriptions gives as the ARN of a subscription not yet confirmed.
PENDING = "PendingConfirmation"


def attribute_row(tbl: Table, attributes: Mapping[str, str], **values: Any) -> dict[str, Any]:
    """A row from an attribute map; attributes without a column go to `unknown_fields`."""
    known = {c.name for c in tbl.columns}
    unknown = {
        k: v for k, v in attributes.items() if snake(k) not in known and k not in ("TopicArn",)
    }
    return shape(tbl, attributes, unknown_fields=unknown or None, **values)


def transform_topic(
    account_id: str,
    region: str,
    topic_arn: str,
    attributes: Mapping[str, str],
    tags: list[Mapping[str, Any]],
) -> Rows:
    """The topic row and its access policy's statement rows."""
    row = attribute_row(
        TOPICS, attributes, account_id=account_id, region=region, arn=topic_arn, tags=tags
    )
    out = empty((TOPICS, *POLICY_TABLES))
    out[TOPICS].append(with_ids(TOPICS, row))
    policy = attributes.get("Policy")
    if policy:
        extend(
            out,
            split_policy(
                policy, account_id=account_id, source_table=TOPICS.name, source_arn=topic_arn
            ),
        )
    return out


def fetch_topics(ctx: SessionContext, region: str | None) -> Rows:
    """Every topic of one region with its attributes and tags."""
    region = need_region("sns.topics", region)
    sns = ctx.client("sns", region)
    out = empty((TOPICS, *POLICY_TABLES))
    for topic in paginate(sns, "list_topics", "Topics"):
        topic_arn = topic["TopicArn"]
        answer = optional(sns.get_topic_attributes, absent=_GONE, TopicArn=topic_arn)
        if answer is None:
            continue  # deleted since the listing
        tags = sns.list_tags_for_resource(ResourceArn=topic_arn).get("Tags", [])
        extend(
            out,
            transform_topic(ctx.account_id, region, topic_arn, answer.get("Attributes", {}), tags),
        )
    return out


def safe_endpoint(protocol: str | None, endpoint: str | None) -> str | None:
    """The endpoint, with an HTTP(S) URL cut to scheme and host plus a fingerprint of the rest."""
    if not endpoint or (protocol or "").lower() not in ("http", "https"):
        return endpoint
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:  # an unparsable URL or port: keep nothing of it but the fingerprint
        return f"{protocol}://redacted/{fingerprint(endpoint)}"
    host = parts.hostname or ""
    if port is not None:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}/{fingerprint(endpoint)}"


def transform_subscription(
    account_id: str,
    region: str,
    listed: Mapping[str, Any],
    attributes: Mapping[str, str] | None,
) -> Rows:
    """A subscription row from its listing and (when confirmed) its attributes."""
    arn = str(listed.get("SubscriptionArn", ""))
    merged: dict[str, Any] = {
        "SubscriptionArn": arn,
        "TopicArn": listed.get("TopicArn"),
        "Owner": listed.get("Owner"),
        "Protocol": listed.get("Protocol"),
        **(attributes or {}),
    }
    if arn == PENDING:
        merged["PendingConfirmation"] = "true"
    merged["Endpoint"] = safe_endpoint(
        merged.get("Protocol"), merged.get("Endpoint", listed.get("Endpoint"))
    )
    row = attribute_row(SUBSCRIPTIONS, merged, account_id=account_id, region=region, arn=arn)
    row = with_ids(SUBSCRIPTIONS, row)
    if arn == PENDING:
        # Every pending subscription shares this "ARN": its id comes from what sets it apart.
        key = f"{PENDING}|{merged['TopicArn']}|{merged['Protocol']}|{row['endpoint']}"
        row["_cq_id"] = cq_id({"arn": key}, SUBSCRIPTIONS.cq_id_from)
    return {SUBSCRIPTIONS: [row]}


def fetch_subscriptions(ctx: SessionContext, region: str | None) -> Rows:
    """Every subscription the account owns in one region, with attributes when confirmed."""
    region = need_region("sns.subscriptions", region)
    sns = ctx.client("sns", region)
    out = empty([SUBSCRIPTIONS])
    seen: set[str] = set()
    for listed in paginate(sns, "list_subscriptions", "Subscriptions"):
        attributes: Mapping[str, str] | None = None
        if listed.get("SubscriptionArn") != PENDING:
            answer = optional(
                sns.get_subscription_attributes,
                absent=_GONE,
                SubscriptionArn=listed["SubscriptionArn"],
            )
            if answer is None:
                continue  # deleted since the listing
            attributes = answer.get("Attributes", {})
        for row in transform_subscription(ctx.account_id, region, listed, attributes)[
            SUBSCRIPTIONS
        ]:
            if row["_cq_id"] not in seen:
                seen.add(row["_cq_id"])
                out[SUBSCRIPTIONS].append(row)
    return out


register(
    Resource(
        name="sns.topics",
        service="sns",
        tables=(TOPICS, *POLICY_TABLES),
        permissions=("sns:ListTopics", "sns:GetTopicAttributes", "sns:ListTagsForResource"),
        fetch=fetch_topics,
        description="SNS topics: encryption and access policy.",
    )
)
register(
    Resource(
        name="sns.subscriptions",
        service="sns",
        tables=(SUBSCRIPTIONS,),
        permissions=("sns:ListSubscriptions", "sns:GetSubscriptionAttributes"),
        fetch=fetch_subscriptions,
        description="SNS subscriptions: topic, protocol, confirmation state.",
    )
)
