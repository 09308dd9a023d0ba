"""SQL portability: analyses are written once in DuckDB's dialect and transpiled per backend."""

from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from opencwpp.core.errors import CheckDefinitionError

# sqlglot renders DuckDB's `->` / `->>` as PostgreSQL's json_* functions, which do not accept
# the jsonb columns CloudQuery (and we) create.
_JSON_FUNCTION = re.compile(r"\bJSON_EXTRACT_PATH(_TEXT)?\(", re.IGNORECASE)


@lru_cache(maxsize=16)
def _extract_all_template(group: int) -> exp.Expression:
    # PostgreSQL has no regexp_extract_all: every match's group, as an array, from regexp_matches.
    select = sqlglot.parse_one(
        f"SELECT ARRAY(SELECT m[{group}] FROM regexp_matches(cwpp_subject, cwpp_pattern, 'g') "
        "AS m)",
        read="postgres",
    )
    template: exp.Expression = select.expressions[0]
    return template


def _extract_all_for_postgres(node: exp.Expression) -> exp.Expression:
    """`regexp_extract_all(s, p[, g])` as PostgreSQL's `ARRAY(SELECT m[g] FROM regexp_matches…)`."""
    if not isinstance(node, exp.RegexpExtractAll):
        return node
    group = node.args.get("group")
    index = int(group.name) if group is not None else 0
    pattern: exp.Expression = node.expression.copy()
    if index == 0:  # the whole match: make it the first group
        pattern = exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string("("), expression=pattern),
            expression=exp.Literal.string(")"),
        )
        index = 1
    subject: exp.Expression = node.this.copy()

    def fill(part: exp.Expression) -> exp.Expression:
        if isinstance(part, exp.Column) and part.name == "cwpp_subject":
            return subject
        if isinstance(part, exp.Column) and part.name == "cwpp_pattern":
            return pattern
        return part

    filled: exp.Expression = _extract_all_template(index).copy().transform(fill)
    return filled


@lru_cache(maxsize=1024)
def transpile(sql: str, dialect: str) -> str:
    """Returns `sql` (DuckDB dialect) rewritten for `dialect` (`duckdb` or `postgres`)."""
    if dialect == "duckdb":
        return sql
    try:
        trees = sqlglot.parse(sql, read="duckdb")
        if dialect == "postgres":
            trees = [t.transform(_extract_all_for_postgres) if t else t for t in trees]
        statements = [t.sql(dialect=dialect) if t else "" for t in trees]
    except SqlglotError as err:
        raise CheckDefinitionError(f"SQL does not parse: {str(err).splitlines()[0]}") from err
    out = ";\n".join(statements)
    if dialect == "postgres":
        out = _JSON_FUNCTION.sub(lambda m: f"JSONB_EXTRACT_PATH{m.group(1) or ''}(", out)
    return out
