"""The two embedded drivers behind `Lake`: DuckDB and PostgreSQL (psycopg 3).

Portable SQL uses `?` placeholders; the PostgreSQL backend turns them into psycopg's `%s`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import duckdb
import psycopg
from psycopg import sql as pgsql

from opencwpp.core.errors import LakeError


class Backend(Protocol):
    """What `Lake` needs of a database driver."""

    dialect: str

    def query(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]: ...
    def execute(self, sql: str, params: Sequence[Any]) -> None: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    def bulk_insert(
        self, table: str, columns: Sequence[str], types: Sequence[str], rows: list[list[Any]]
    ) -> None: ...
    def table_names(self) -> set[str]: ...
    def transaction(self) -> AbstractContextManager[None]: ...
    def arrow_view(self, name: str, source: object) -> AbstractContextManager[None]: ...
    def close(self) -> None: ...


_BATCH = 50_000
# JSON travels as text; a list column needs a list of lists.
_LIST_OF = {"JSON": "VARCHAR[]", "VARCHAR[]": "VARCHAR[][]"}


class DuckDBBackend:
    """An embedded DuckDB database file (or `:memory:`)."""

    dialect = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._conn = conn
        self._in_tx = False

    def query(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        cur = self._conn.execute(sql, list(params) if params else None)
        if cur.description is None:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        self._conn.execute(sql, list(params) if params else None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [list(r) for r in rows]
        if batch:
            self._conn.executemany(sql, batch)

    def bulk_insert(
        self, table: str, columns: Sequence[str], types: Sequence[str], rows: list[list[Any]]
    ) -> None:
        # Row-by-row parameter binding costs ~2 ms a row in DuckDB; one list per column,
        # unnested side by side, loads tens of thousands of rows a second.
        cols = ", ".join(f'"{c}"' for c in columns)
        unnests = ", ".join(
            f"CAST(unnest(CAST(? AS {_LIST_OF.get(t, t + '[]')})) AS {t})" for t in types
        )
        sql = f'INSERT INTO "{table}" ({cols}) SELECT {unnests}'
        for start in range(0, len(rows), _BATCH):
            chunk = rows[start : start + _BATCH]
            self._conn.execute(sql, [list(col) for col in zip(*chunk, strict=True)])

    def table_names(self) -> set[str]:
        rows = self._conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
        return {r[0] for r in rows}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_tx:
            yield
            return
        self._conn.execute("BEGIN TRANSACTION")
        self._in_tx = True
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._in_tx = False

    @contextmanager
    def arrow_view(self, name: str, source: object) -> Iterator[None]:
        # DuckDB scans an object with `__arrow_c_stream__` in place, without pyarrow.
        self._conn.register(name, source)
        try:
            yield
        finally:
            self._conn.unregister(name)

    def close(self) -> None:
        self._conn.close()


def open_duckdb(path: str) -> DuckDBBackend:
    """Opens (creating) a DuckDB file; its folder is created too."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(path)
    except duckdb.IOException as err:
        raise LakeError(f"cannot open DuckDB lake {path}: {str(err).splitlines()[0]}") from err
    conn.execute("SET TimeZone = 'UTC'")
    return DuckDBBackend(conn)


_PLACEHOLDER = re.compile(r"\?")


def _pg_params(sql: str) -> str:
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


_PG_TEXT = {"text", "jsonb", "text[]"}
# `\u0000` in JSON text, after an even number of backslashes (an odd one escapes the last).
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _without_nul(value: Any, sql_type: str) -> Any:
    r"""The value with each NUL character as U+FFFD: PostgreSQL's text and jsonb refuse NUL.

    Much of what lands in the lake is written by whoever calls the cloud's APIs (a failed
    call's parameters, a user agent, a resource name): a NUL there failed the whole write, and
    dropping the row would hide it. In JSON text a NUL is the escape `\u0000`. The value
    itself is returned when it holds no NUL.
    """
    if isinstance(value, list):
        items = [_without_nul(item, "text") for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if sql_type == "jsonb" and "\\u0000" in value:
        value = _NUL_ESCAPE.sub(r"\1\\ufffd", value)
    return value


def _storable_row(row: list[Any], texts: list[tuple[int, str]]) -> list[Any]:
    """The row, or a copy with its text columns' NULs replaced (see `_without_nul`)."""
    out = row
    for index, sql_type in texts:
        value = row[index]
        if value is None:
            continue
        storable = _without_nul(value, sql_type)
        if storable is not value:
            if out is row:
                out = list(row)
            out[index] = storable
    return out


class PostgresBackend:
    """A PostgreSQL database, optionally confined to one schema."""

    dialect = "postgres"

    def __init__(self, conn: psycopg.Connection[Any], schema: str) -> None:
        self._conn = conn
        self._schema = schema

    def query(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        with self._conn.cursor() as cur:
            if params:
                cur.execute(_pg_params(sql), list(params))
            else:
                cur.execute(sql.encode())
            if cur.description is None:
                return []
            names = [d.name for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        with self._conn.cursor() as cur:
            if params:
                cur.execute(_pg_params(sql), list(params))
            else:
                cur.execute(sql.encode())

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(_pg_params(sql), [list(r) for r in rows])

    def bulk_insert(
        self, table: str, columns: Sequence[str], types: Sequence[str], rows: list[list[Any]]
    ) -> None:
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
            pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns))
        )
        texts = [(i, t) for i, t in enumerate(types) if t in _PG_TEXT]
        with self._conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(_storable_row(row, texts))

    def table_names(self) -> set[str]:
        rows = self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            [self._schema],
        )
        return {r["table_name"] for r in rows}

    def transaction(self) -> AbstractContextManager[None]:
        return self._conn.transaction()  # type: ignore[return-value]

    def arrow_view(self, name: str, source: object) -> AbstractContextManager[None]:
        raise LakeError("Arrow data can be read into a DuckDB lake only")

    def close(self) -> None:
        self._conn.close()


def open_postgres(conninfo: str, schema: str | None, shown_url: str) -> PostgresBackend:
    """Connects with autocommit (transactions are explicit) and UTC session time."""
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else "connection failed"
        raise LakeError(f"cannot reach PostgreSQL lake at {shown_url}: {reason}") from err
    except psycopg.ProgrammingError as err:
        raise LakeError(f"invalid PostgreSQL lake URL {shown_url}: {err}") from err
    conn.execute("SET TIME ZONE 'UTC'")
    if schema:
        conn.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema)))
        conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(schema)))
    else:
        row = conn.execute("SELECT current_schema()").fetchone()
        schema = str(row[0]) if row and row[0] else "public"
    return PostgresBackend(conn, schema)
