"""One resource's inventory rows: its ARN looked up in every `aws_*` table with an arn column."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from opencwpp.catalog import lake_tables
from opencwpp.lake.lake import Lake

HIDDEN = frozenset({"_cq_id", "_cq_parent_id", "_cq_source_name"})


@dataclass(frozen=True, slots=True)
class InventoryRow:
    """One row of one inventory table, its values as display text."""

    table: str
    values: list[tuple[str, str]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.dumps(json.loads(value), indent=2, sort_keys=True, ensure_ascii=False)
        except ValueError:
            return value
    if isinstance(value, bytes | Decimal):
        return str(value)
    return str(value)


def arn_tables(lake: Lake) -> list[str]:
    """The lake's `aws_*` tables whose model has an `arn` column, sorted."""
    models = lake_tables()
    present = lake.table_names()
    return sorted(
        name
        for name, model in models.items()
        if name.startswith("aws_")
        and name in present
        and any(c.name == "arn" for c in model.columns)
    )


def inventory_rows(lake: Lake, arn: str) -> list[InventoryRow]:
    """Every inventory row whose `arn` is exactly `arn`, across the AWS tables."""
    rows: list[InventoryRow] = []
    for table in arn_tables(lake):
        for row in lake.query(f'SELECT * FROM "{table}" WHERE arn = ?', [arn]):
            values = [(k, _text(v)) for k, v in row.items() if k not in HIDDEN]
            rows.append(InventoryRow(table, values))
    return rows
