"""DynamoDB: tables (encryption, streams, deletion protection) and continuous backups (PITR)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, optional, paginate, register
from opencwpp.lake.schema import table

TABLES = table(
    "aws_dynamodb_tables",
    columns(
        """
        account_id region tags:json arn archival_summary:json attribute_definitions:json
        billing_mode_summary:json creation_date_time:ts deletion_protection_enabled:bool
        global_secondary_indexes:json global_table_version item_count:int key_schema:json
        latest_stream_arn latest_stream_label local_secondary_indexes:json
        provisioned_throughput:json replicas:json restore_summary:json sse_description:json
        stream_specification:json table_arn table_class_summary:json table_id table_name
        table_size_bytes:int table_status
        """
    ),
    cq_id_from=["arn"],
)
CONTINUOUS_BACKUPS = table(
    "aws_dynamodb_table_continuous_backups",
    columns(
        """
        account_id region table_arn continuous_backups_status
        point_in_time_recovery_description:json
        """
    ),
    cq_id_from=["table_arn"],
    parent="aws_dynamodb_tables",
)
_GONE = frozenset({"ResourceNotFoundException", "TableNotFoundException"})


def transform_table(
    account_id: str,
    region: str,
    description: Mapping[str, Any],
    tags: list[Mapping[str, Any]],
    backups: Mapping[str, Any] | None,
) -> Rows:
    """The table row and its continuous-backups row (when it was read)."""
    table_arn = description["TableArn"]
    parent = with_ids(
        TABLES,
        shape(TABLES, description, account_id=account_id, region=region, arn=table_arn, tags=tags),
    )
    out = {TABLES: [parent], CONTINUOUS_BACKUPS: []}
    if backups is not None:
        row = shape(
            CONTINUOUS_BACKUPS, backups, account_id=account_id, region=region, table_arn=table_arn
        )
        out[CONTINUOUS_BACKUPS].append(with_ids(CONTINUOUS_BACKUPS, row, parent))
    return out


def fetch_tables(ctx: SessionContext, region: str | None) -> Rows:
    """Every table of one region with its tags and point-in-time recovery status."""
    region = need_region("dynamodb.tables", region)
    ddb = ctx.client("dynamodb", region)
    out = empty([TABLES, CONTINUOUS_BACKUPS])
    for name in paginate(ddb, "list_tables", "TableNames"):
        answer = optional(ddb.describe_table, absent=_GONE, TableName=name)
        if answer is None:
            continue  # deleted since the listing
        description = answer["Table"]
        tags = paginate(ddb, "list_tags_of_resource", "Tags", ResourceArn=description["TableArn"])
        backups = optional(ddb.describe_continuous_backups, absent=_GONE, TableName=name)
        described = (backups or {}).get("ContinuousBackupsDescription")
        extend(out, transform_table(ctx.account_id, region, description, tags, described))
    return out


register(
    Resource(
        name="dynamodb.tables",
        service="dynamodb",
        tables=(TABLES, CONTINUOUS_BACKUPS),
        permissions=(
            "dynamodb:ListTables",
            "dynamodb:DescribeTable",
            "dynamodb:ListTagsOfResource",
            "dynamodb:DescribeContinuousBackups",
        ),
        fetch=fetch_tables,
        description="DynamoDB tables, their encryption and point-in-time recovery.",
    )
)
