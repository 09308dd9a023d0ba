"""SQL portability: analyses are written once in DuckDB's dialect and transpiled per backend."""

from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from sqlglot.errors import SqlglotError

from opencwpp.core.errors import CheckDefinitionError

# sqlglot renders DuckDB's `->` / `->>` as PostgreSQL's json_* functions, which do not accept
# the jsonb columns CloudQuery (and we) create.
_JSON_FUNCTION = re.compile(r"\bJSON_EXTRACT_PATH(_TEXT)?\(", re.IGNORECASE)


@lru_cache(maxsize=1024)
def transpile(sql: str, dialect: str) -> str:
    """Returns `sql` (DuckDB dialect) rewritten for `dialect` (`duckdb` or `postgres`)."""
    if dialect == "duckdb":
        return sql
    try:
        statements = sqlglot.transpile(sql, read="duckdb", write=dialect)
    except SqlglotError as err:
        raise CheckDefinitionError(f"SQL does not parse: {str(err).splitlines()[0]}") from err
    out = ";\n".join(statements)
    if dialect == "postgres":
        out = _JSON_FUNCTION.sub(lambda m: f"JSONB_EXTRACT_PATH{m.group(1) or ''}(", out)
    return out
