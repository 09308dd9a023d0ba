"""SNS topics: attributes, encryption, and the access policy split into statements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, snake, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, split_policy
from opencwpp.collect.base import Resource, Rows, SessionContext, optional, paginate, register
from opencwpp.lake.schema import Table, table

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
_GONE = frozenset({"NotFound", "NotFoundException"})


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
