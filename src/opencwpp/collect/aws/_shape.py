"""Shaping API structures into CloudQuery-shaped rows, column by column.

CloudQuery names a column after the snake_case of the AWS SDK field (`DBInstanceArn` ->
`db_instance_arn`), so most columns map themselves; `renames` covers the rest. Values are coerced
to the column's Arrow type (AWS attribute maps give `"true"` and `"42"` as strings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from opencwpp.collect.base import Row, Rows, partition_of
from opencwpp.lake.schema import (
    BOOL,
    FLOAT64,
    INT64,
    JSON,
    LIST_UTF8,
    TIMESTAMP,
    UTF8,
    Table,
    cq_id,
)

_SKIP = frozenset({"_cq_id", "_cq_parent_id"})


def snake(name: str) -> str:
    """`DBInstanceArn` -> `db_instance_arn`, `repositoryUri` -> `repository_uri`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def pascal_keys(value: Any) -> Any:
    """Nested structures with PascalCase keys, as CloudQuery's JSON (Go SDK field names) has."""
    if isinstance(value, Mapping):
        return {(k[:1].upper() + k[1:]) if k else k: pascal_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal_keys(v) for v in value]
    return value


def tags_of(value: Any) -> dict[str, str]:
    """Tags as a flat object, from `[{Key, Value}]`, `[{TagKey, TagValue}]` or a plain map."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    out: dict[str, str] = {}
    for tag in value or []:
        key = tag.get("Key", tag.get("key", tag.get("TagKey")))
        val = tag.get("Value", tag.get("value", tag.get("TagValue", "")))
        out[str(key)] = "" if val is None else str(val)
    return out


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def coerce(value: Any, arrow_type: str) -> Any:
    """`value` as the column type wants it (None stays None)."""
    if value is None:
        return None
    if arrow_type == JSON:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value
    if arrow_type == BOOL:
        return _bool(value)
    if arrow_type == INT64:
        try:
            return int(value)
        except ValueError:
            return int(float(value))  # e.g. an emulator's '1795770289.91' epoch
    if arrow_type == FLOAT64:
        return float(value)
    if arrow_type == LIST_UTF8:
        return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]
    if arrow_type == TIMESTAMP:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if isinstance(value, Mapping | list):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def shape(
    tbl: Table,
    raw: Mapping[str, Any],
    *,
    renames: Mapping[str, str] | None = None,
    pascal_json: bool = False,
    **values: Any,
) -> Row:
    """A row of `tbl`: each column from `values`, else the raw field of the same snake name.

    `renames` maps a column to the raw field it comes from when the names differ. A `tags`
    column is filled from the raw `Tags`/`TagList` unless given. `pascal_json` gives JSON
    columns PascalCase keys (for services whose API is camelCase, like ECR).
    """
    index = {snake(str(k)): str(k) for k in raw}
    index.update(renames or {})
    row: Row = {}
    for column in tbl.columns:
        name = column.name
        if name in _SKIP:
            continue
        if name in values:
            row[name] = coerce(values[name], column.type)
        elif name == "tags":
            row[name] = tags_of(raw.get("Tags", raw.get("TagList", raw.get("tags"))))
        else:
            key = index.get(name)
            value = coerce(raw.get(key), column.type) if key is not None else None
            row[name] = pascal_keys(value) if pascal_json and column.type == JSON else value
    return row


def with_ids(tbl: Table, row: Row, parent: Row | None = None) -> Row:
    """Sets the row's deterministic `_cq_id` (and `_cq_parent_id` from `parent`)."""
    row["_cq_id"] = cq_id(row, tbl.cq_id_from)
    if parent is not None:
        row["_cq_parent_id"] = parent["_cq_id"]
    return row


def empty(tables: Iterable[Table]) -> Rows:
    """An empty row set for the tables."""
    return {t: [] for t in tables}


def extend(out: Rows, rows: Rows) -> Rows:
    """Appends every table's rows of `rows` to `out`; returns `out`."""
    for tbl, items in rows.items():
        out.setdefault(tbl, []).extend(items)
    return out


def arn(service: str, region: str, account_id: str, resource: str) -> str:
    """An ARN in the region's partition."""
    return f"arn:{partition_of(region)}:{service}:{region}:{account_id}:{resource}"


def need_region(name: str, region: str | None) -> str:
    """The region of a regional fetch (a ValueError if the sync passed none)."""
    if region is None:
        raise ValueError(f"{name} is regional: a region is required")
    return region


_TYPE_CODES = {
    "json": JSON,
    "bool": BOOL,
    "int": INT64,
    "float": FLOAT64,
    "ts": TIMESTAMP,
    "list": LIST_UTF8,
}


def columns(spec: str) -> list[tuple[str, str]]:
    """Columns from a compact spec: `name` (utf8) or `name:json|bool|int|float|ts|list`."""
    out: list[tuple[str, str]] = []
    for token in spec.split():
        name, _, code = token.partition(":")
        out.append((name, _TYPE_CODES[code] if code else UTF8))
    return out
