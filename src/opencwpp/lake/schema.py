"""Table models: the columns and types of a lake table, shared by DDL, writes and checks.

Types are the Apache Arrow names CloudQuery's schema uses, so our tables can be compared with
CloudQuery's column by column and a CloudQuery-synced database is a valid lake.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

UTF8 = "utf8"
JSON = "json"
UUID = "uuid"
BOOL = "bool"
INT64 = "int64"
FLOAT64 = "float64"
TIMESTAMP = "timestamp[us, tz=UTC]"
LIST_UTF8 = "list<item: utf8, nullable>"
INET = "inet"

_DUCKDB_TYPES = {
    UTF8: "VARCHAR",
    JSON: "JSON",
    UUID: "UUID",
    BOOL: "BOOLEAN",
    INT64: "BIGINT",
    FLOAT64: "DOUBLE",
    TIMESTAMP: "TIMESTAMP",
    LIST_UTF8: "VARCHAR[]",
    INET: "VARCHAR",
    "binary": "BLOB",
}
_POSTGRES_TYPES = {
    UTF8: "text",
    JSON: "jsonb",
    UUID: "uuid",
    BOOL: "boolean",
    INT64: "bigint",
    FLOAT64: "double precision",
    TIMESTAMP: "timestamp without time zone",
    LIST_UTF8: "text[]",
    INET: "inet",
    "binary": "bytea",
}
SQL_TYPES = {"duckdb": _DUCKDB_TYPES, "postgres": _POSTGRES_TYPES}

CQ_COLUMNS = ("_cq_id", "_cq_parent_id", "_cq_source_name", "_cq_sync_time")
_NIL_UUID = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name and Arrow type."""

    name: str
    type: str = UTF8


@dataclass(frozen=True, slots=True)
class Table:
    """A lake table: name, columns, the columns its deterministic `_cq_id` derives from.

    `_cq_source_name` and `_cq_sync_time` are added to every table, as CloudQuery's CLI does.
    """

    name: str
    columns: tuple[Column, ...]
    cq_id_from: tuple[str, ...] = ()
    parent: str | None = None
    description: str = ""
    primary_key: tuple[str, ...] = field(default=("_cq_id",))
    # A derived table filled by several collectors (e.g. policy statements from S3 and IAM)
    # names the column that says which source table a row came from, so that replacing one
    # source's scope leaves the other sources' rows alone.
    partition_by: str | None = None
    # False for opencwpp's own tables (runs, findings), which are not synced from a source.
    synced: bool = True
    # Columns that checks join on. PostgreSQL needs them for correlated subqueries; DuckDB
    # decorrelates joins itself and loads faster without indexes, so it gets none.
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> list[str]:
        """All column names in DDL order, the `_cq_*` bookkeeping columns included."""
        names = [c.name for c in self.columns]
        if not self.synced:
            return names
        return names + [c for c in ("_cq_source_name", "_cq_sync_time") if c not in names]

    @property
    def account_column(self) -> str | None:
        """The column holding the account id (some CloudQuery tables say `request_account_id`).

        Azure tables hold the subscription, their account, in `subscription_id`.
        """
        names = ("account_id", "request_account_id", "subscription_id")
        return next((c for c in names if self.has_column(c)), None)

    @property
    def region_column(self) -> str | None:
        """The column holding the region, if the table is regional."""
        return next((c for c in ("region", "request_region") if self.has_column(c)), None)

    def has_column(self, name: str) -> bool:
        """Whether the table has a column of this name."""
        return name in self.column_names

    def column_type(self, name: str) -> str:
        """The Arrow type of a column."""
        if name == "_cq_sync_time":
            return TIMESTAMP
        for column in self.columns:
            if column.name == name:
                return column.type
        return UTF8

    def ddl(self, dialect: str) -> str:
        """CREATE TABLE IF NOT EXISTS for the given dialect (`duckdb` or `postgres`)."""
        types = SQL_TYPES[dialect]
        cols = [f'"{name}" {types[self.column_type(name)]}' for name in self.column_names]
        if self.primary_key:
            cols.append("PRIMARY KEY (" + ", ".join(f'"{c}"' for c in self.primary_key) + ")")
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" (' + ", ".join(cols) + ")"

    def index_ddl(self, dialect: str) -> list[str]:
        """CREATE INDEX statements for the declared join columns (PostgreSQL only)."""
        if dialect != "postgres":
            return []
        out = []
        for columns in self.indexes:
            name = f"{self.name}_{'_'.join(columns)}_idx"[:63]
            cols = ", ".join(f'"{c}"' for c in columns)
            out.append(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{self.name}" ({cols})')
        return out


def table(
    name: str,
    columns: Iterable[tuple[str, str] | str],
    *,
    cq_id_from: Iterable[str] = (),
    parent: str | None = None,
    description: str = "",
    partition_by: str | None = None,
    indexes: Iterable[Iterable[str]] = (),
) -> Table:
    """Builds a CloudQuery-shaped table: `_cq_id` and `_cq_parent_id` come first."""
    cols = [Column("_cq_id", UUID), Column("_cq_parent_id", UUID)]
    for col in columns:
        cols.append(Column(col, UTF8) if isinstance(col, str) else Column(*col))
    return Table(
        name=name,
        columns=tuple(cols),
        cq_id_from=tuple(cq_id_from),
        parent=parent,
        description=description,
        partition_by=partition_by,
        indexes=tuple(tuple(i) for i in indexes),
    )


def _value_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cq_id(row: Mapping[str, Any], components: Iterable[str]) -> str:
    """Deterministic `_cq_id`, computed the way CloudQuery's plugin SDK does.

    UUIDv5 in the nil namespace over SHA-256 of the sorted component names, each followed by its
    value, so a resource keeps its id across syncs.
    """
    digest = hashlib.sha256()
    for name in sorted(components):
        digest.update(name.encode())
        digest.update(_value_string(row.get(name)).encode())
    sha1 = hashlib.sha1(_NIL_UUID.bytes + digest.digest(), usedforsecurity=False).digest()
    return str(uuid.UUID(bytes=sha1[:16], version=5))
