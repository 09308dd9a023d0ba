"""Who a snapshot is shared with, split into rows at load so checks never walk JSON arrays.

`cwpp_aws_resource_shares` holds one row per grantee of a sharing attribute: an EBS snapshot's
`createVolumePermission` ({Group: all} or {UserId}) and an RDS DB / cluster snapshot's `restore`
attribute (`all` or account ids). The group `all` means public. Several collectors fill it, so
rows carry `source_table` and a sync replaces only its own source's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opencwpp.collect.base import Row
from opencwpp.lake.schema import cq_id, table

RESOURCE_SHARES = table(
    "cwpp_aws_resource_shares",
    [
        "account_id",
        "region",
        "source_table",
        "resource_arn",
        "attribute",
        "grantee_type",
        "grantee",
    ],
    cq_id_from=["source_table", "resource_arn", "attribute", "grantee_type", "grantee"],
    partition_by="source_table",
    indexes=[("resource_arn",)],
    description="One row per grantee (group `all` or an account id) of a resource's sharing.",
)
GROUP = "group"
ACCOUNT = "account"


def _row(parent: Row, source_table: str, attribute: str, kind: str, grantee: str) -> Row:
    row: Row = {
        "_cq_parent_id": parent.get("_cq_id"),
        "account_id": parent["account_id"],
        "region": parent["region"],
        "source_table": source_table,
        "resource_arn": parent["arn"],
        "attribute": attribute,
        "grantee_type": kind,
        "grantee": grantee,
    }
    row["_cq_id"] = cq_id(row, RESOURCE_SHARES.cq_id_from)
    return row


def _unique(rows: Iterable[Row]) -> list[Row]:
    seen: dict[str, Row] = {}
    for row in rows:
        seen.setdefault(row["_cq_id"], row)
    return list(seen.values())


def ebs_shares(
    parent: Row, source_table: str, permissions: Iterable[Mapping[str, Any]] | None
) -> list[Row]:
    """Rows for an EBS snapshot's createVolumePermission list ({Group} / {UserId} items)."""
    rows: list[Row] = []
    for item in permissions or []:
        if not isinstance(item, Mapping):
            continue
        if item.get("Group"):
            rows.append(_row(parent, source_table, "createVolumePermission", GROUP, item["Group"]))
        if item.get("UserId"):
            rows.append(
                _row(parent, source_table, "createVolumePermission", ACCOUNT, str(item["UserId"]))
            )
    return _unique(rows)


def rds_shares(
    parent: Row, source_table: str, attributes: Iterable[Mapping[str, Any]] | None
) -> list[Row]:
    """Rows for an RDS snapshot's `restore` attribute: `all` is the group, the rest accounts."""
    rows: list[Row] = []
    for attribute in attributes or []:
        if not isinstance(attribute, Mapping) or attribute.get("AttributeName") != "restore":
            continue
        for value in attribute.get("AttributeValues") or []:
            kind = GROUP if value == "all" else ACCOUNT
            rows.append(_row(parent, source_table, "restore", kind, str(value)))
    return _unique(rows)
