"""The lake: one connection by URL to DuckDB (embedded default) or PostgreSQL."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from opencwpp.core.errors import LakeError
from opencwpp.lake import _backends
from opencwpp.lake.dialect import transpile
from opencwpp.lake.schema import JSON, SQL_TYPES, TIMESTAMP, Table, cq_id

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class Scope:
    """What one sync replaces: an account, and a region (None for global services)."""

    account_id: str
    region: str | None = None

    @property
    def region_key(self) -> str:
        """The region as stored in `cwpp_sync_scopes` ('' for global)."""
        return self.region or ""


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _to_utc_naive(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _db_value(value: Any, arrow_type: str) -> Any:
    if value is None:
        return None
    if arrow_type == JSON:
        return json.dumps(value, default=str, sort_keys=True)
    if arrow_type == TIMESTAMP and isinstance(value, datetime):
        return _to_utc_naive(value)
    return value


# Rows of one table as `db_rows` prepares them: value lists in the table's column order.
Batch = tuple[Table, list[list[Any]]]


def db_rows(
    tbl: Table,
    rows: Iterable[dict[str, Any]],
    *,
    source_name: str = "aws",
    sync_time: datetime,
) -> list[list[Any]]:
    """Synced rows as the database takes them: value lists in `tbl.column_names` order.

    Each row gets its `_cq_id` (deterministic when the table names its components, like
    CloudQuery), the source name and the sync time; JSON values become text and timestamps
    naive UTC. Needs no connection, so fetch threads can prepare rows before the writer.
    """
    at = _to_utc_naive(sync_time)
    names = tbl.column_names
    types = [tbl.column_type(n) for n in names]
    out: list[list[Any]] = []
    for row in rows:
        if not row.get("_cq_id"):
            row["_cq_id"] = cq_id(row, tbl.cq_id_from) if tbl.cq_id_from else str(uuid.uuid4())
        row["_cq_source_name"] = source_name
        row["_cq_sync_time"] = at
        out.append([_db_value(row.get(n), t) for n, t in zip(names, types, strict=True)])
    return out


class Lake:
    """A connection to the lake. Open with `Lake.open(url)`; use as a context manager."""

    def __init__(self, url: str, backend: _backends.Backend) -> None:
        self.url = url
        self._db = backend

    @property
    def dialect(self) -> str:
        """`duckdb` or `postgres`: the SQL dialect of the backend."""
        return self._db.dialect

    @classmethod
    def open(cls, url: str) -> Lake:
        """Connects to `duckdb:///path`, `duckdb:///:memory:` or `postgresql://…[?schema=s]`."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "duckdb":
            # duckdb:///abs/path, duckdb:////abs/path (SQLAlchemy style), duckdb://relative/path
            path = url[len("duckdb://") :]
            if path in ("/:memory:", ":memory:", ""):
                path = ":memory:"
            elif path.startswith("//"):
                path = path[1:]
            return cls(url, _backends.open_duckdb(path))
        if scheme in ("postgresql", "postgres"):
            query = dict(parse_qsl(parts.query))
            schema = query.pop("schema", None)
            if schema is not None and not _SCHEMA_NAME.match(schema):
                raise LakeError(f"invalid PostgreSQL schema name in lake URL: {schema!r}")
            conninfo = urlunsplit(parts._replace(query=urlencode(query)))
            return cls(url, _backends.open_postgres(conninfo, schema, redact_url(url)))
        if not scheme and url:
            return cls(url, _backends.open_duckdb(str(Path(url).expanduser())))
        raise LakeError(
            f"unknown lake URL scheme {scheme!r} in {redact_url(url)!r}: "
            "use duckdb:///path/lake.duckdb or postgresql://user@host:5432/db"
        )

    def close(self) -> None:
        """Closes the connection."""
        self._db.close()

    def __enter__(self) -> Lake:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Runs one query; returns rows as dicts.

        Without params, `sql` is DuckDB's dialect and is transpiled for the backend (checks, user
        queries). With params, it must already be portable SQL with `?` placeholders.
        """
        if params:
            return self._db.query(sql, params)
        return self._db.query(transpile(sql, self.dialect), ())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Runs one statement (portable SQL with `?` placeholders)."""
        self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Runs one statement (portable SQL with `?` placeholders) for many rows."""
        self._db.executemany(sql, rows)

    def table_exists(self, name: str) -> bool:
        """Whether the lake has a table of this name."""
        return name in self._db.table_names()

    def table_names(self) -> set[str]:
        """All table names in the lake (in the lake's schema)."""
        return self._db.table_names()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction: everything inside commits together or not at all."""
        with self._db.transaction():
            yield

    def arrow_view(self, name: str, source: object) -> AbstractContextManager[None]:
        """`source` (any object with `__arrow_c_stream__`) as a view `name` while inside.

        DuckDB only: it reads the Arrow buffers in place.
        """
        return self._db.arrow_view(name, source)

    # -- writing ---------------------------------------------------------------------------

    def ensure_tables(self, tables: Iterable[Table]) -> None:
        """Creates the tables that do not exist yet."""
        existing = self._db.table_names()
        for tbl in tables:
            if tbl.name not in existing:
                self._db.execute(tbl.ddl(self.dialect), ())
                for statement in tbl.index_ddl(self.dialect):
                    self._db.execute(statement, ())
                existing.add(tbl.name)

    def insert_rows(self, tbl: Table, rows: Iterable[Mapping[str, Any]]) -> int:
        """Inserts rows (missing columns are NULL). Returns how many."""
        names = tbl.column_names
        types = [tbl.column_type(n) for n in names]
        values = [
            [_db_value(row.get(n), t) for n, t in zip(names, types, strict=True)] for row in rows
        ]
        return self.insert_values(tbl, values)

    def insert_values(self, tbl: Table, values: list[list[Any]]) -> int:
        """Inserts rows given as value lists in the table's column order, in database form.

        Database form: JSON as text, naive UTC times (see `db_rows`). In bulk: COPY on
        PostgreSQL, column lists unnested on DuckDB. PostgreSQL's text and jsonb cannot hold a
        NUL character: there it is stored as U+FFFD. Returns how many.
        """
        if not values:
            return 0
        types = [SQL_TYPES[self.dialect][tbl.column_type(n)] for n in tbl.column_names]
        self._db.bulk_insert(tbl.name, tbl.column_names, types, values)
        return len(values)

    def replace_scope(
        self,
        scope: Scope,
        rows_by_table: Mapping[Table, Sequence[dict[str, Any]]],
        *,
        source_name: str = "aws",
        sync_time: datetime | None = None,
    ) -> dict[str, int]:
        """Replaces the scope's rows of every given table in one transaction.

        Rows get their deterministic `_cq_id` (when the table declares its components), the
        source name and the sync time. A failure anywhere leaves the previous snapshot whole.
        """
        at = sync_time or datetime.now(UTC)
        batches = (
            (tbl, db_rows(tbl, rows, source_name=source_name, sync_time=at))
            for tbl, rows in rows_by_table.items()
        )
        return self.replace_scope_batches(scope, list(rows_by_table), batches)

    def replace_scope_batches(
        self, scope: Scope, tables: Sequence[Table], batches: Iterable[Batch]
    ) -> dict[str, int]:
        """Replaces the scope's rows of `tables` with prepared batches, in one transaction.

        The batches (from `db_rows`, any number per table, in any order) are inserted as they
        come, so a caller can stream a large scope from disk without holding it. Every table in
        `tables` is emptied for the scope first, batch or not; a failure anywhere, in the
        database or in the iterable, rolls back to the previous snapshot.

        Returns:
            Rows written per table name (0 for a table without rows).
        """
        self.ensure_tables(tables)
        counts = {tbl.name: 0 for tbl in tables}
        with self._db.transaction():
            sources = [t.name for t in tables if t.partition_by is None]
            for tbl in tables:
                where, params = self._scope_filter(tbl, scope)
                if tbl.partition_by is not None:
                    # Only the partitions of the tables replaced alongside: none, nothing to drop.
                    where += (
                        f' AND "{tbl.partition_by}" IN (' + ", ".join("?" for _ in sources) + ")"
                    )
                    params.extend(sources)
                if tbl.partition_by is None or sources:
                    self._db.execute(f'DELETE FROM "{tbl.name}" WHERE {where}', params)
            for tbl, values in batches:
                if tbl.name not in counts:
                    raise LakeError(f"batch for {tbl.name}, which this scope does not replace")
                counts[tbl.name] += self.insert_values(tbl, values)
        if self.dialect == "postgres":
            # Fresh statistics, or the planner guesses a freshly loaded table is empty.
            for tbl in tables:
                self._db.execute(f'ANALYZE "{tbl.name}"', ())
        return counts

    @staticmethod
    def _scope_filter(tbl: Table, scope: Scope) -> tuple[str, list[Any]]:
        account, region = tbl.account_column, tbl.region_column
        if account is not None:
            where, params = f'"{account}" = ?', [scope.account_id]
        else:
            # e.g. aws_iam_credential_reports has no account_id: the ARN carries it.
            where, params = "split_part(arn, ':', 5) = ?", [scope.account_id]
        if scope.region is not None and region is not None:
            where += f' AND "{region}" = ?'
            params.append(scope.region)
        return where, params
