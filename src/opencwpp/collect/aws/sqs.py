"""SQS queues: attributes, encryption (KMS or SQS-managed), and the policy split into statements."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, split_policy
from opencwpp.collect.aws.sns import attribute_row
from opencwpp.collect.base import (
    PAGE_SIZE,
    Resource,
    Rows,
    SessionContext,
    optional,
    pages,
    register,
)
from opencwpp.lake.schema import table

QUEUES = table(
    "aws_sqs_queues",
    columns(
        """
        account_id region arn policy:json redrive_policy:json redrive_allow_policy:json tags:json
        url approximate_number_of_messages:int approximate_number_of_messages_delayed:int
        approximate_number_of_messages_not_visible:int created_timestamp:int delay_seconds:int
        last_modified_timestamp:int maximum_message_size:int message_retention_period:int
        receive_message_wait_time_seconds:int visibility_timeout:int kms_master_key_id
        kms_data_key_reuse_period_seconds:int sqs_managed_sse_enabled:bool fifo_queue:bool
        content_based_deduplication:bool deduplication_scope fifo_throughput_limit
        unknown_fields:json
        """
    ),
    cq_id_from=["arn"],
)
_GONE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


def transform_queue(
    account_id: str,
    region: str,
    url: str,
    attributes: Mapping[str, str],
    tags: Mapping[str, str],
) -> Rows:
    """The queue row and its access policy's statement rows."""
    queue_arn = attributes["QueueArn"]
    plain = {k: v for k, v in attributes.items() if k != "QueueArn"}
    row = attribute_row(
        QUEUES, plain, account_id=account_id, region=region, arn=queue_arn, url=url, tags=tags
    )
    out = empty((QUEUES, *POLICY_TABLES))
    out[QUEUES].append(with_ids(QUEUES, row))
    policy = attributes.get("Policy")
    if policy:
        extend(
            out,
            split_policy(
                policy, account_id=account_id, source_table=QUEUES.name, source_arn=queue_arn
            ),
        )
    return out


def _queue(sqs: Any, url: str) -> tuple[dict[str, str], dict[str, str]] | None:
    answer = optional(sqs.get_queue_attributes, absent=_GONE, QueueUrl=url, AttributeNames=["All"])
    if answer is None:
        return None
    tags = optional(sqs.list_queue_tags, absent=_GONE, QueueUrl=url) or {}
    return dict(answer.get("Attributes", {})), dict(tags.get("Tags") or {})


def fetch_queues(ctx: SessionContext, region: str | None) -> Iterator[Rows]:
    """Every queue of one region with its attributes and tags, a page at a time."""
    region = need_region("sqs.queues", region)
    sqs = ctx.client("sqs", region)
    paging = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    for page in pages(sqs, "list_queues", "QueueUrls", **paging):
        out = empty((QUEUES, *POLICY_TABLES))
        for url in page:
            found = _queue(sqs, url)
            if found is not None:  # None: deleted since the listing
                extend(out, transform_queue(ctx.account_id, region, url, *found))
        yield out


register(
    Resource(
        name="sqs.queues",
        service="sqs",
        tables=(QUEUES, *POLICY_TABLES),
        permissions=("sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags"),
        fetch=fetch_queues,
        description="SQS queues: encryption and access policy.",
    )
)
