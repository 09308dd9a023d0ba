"""Shared SQL for judgements several checks make, created as lake views before checks run.

One SELECT per file under `checks/views/`, named after the file; cases create them too.

A fix to such a judgement (say, which condition keys restrict a public policy) lands once. A view
is created only when every table it reads exists, so a check that reads it is NOT_ASSESSED, never
PASS, when those tables were not collected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from opencwpp.core.errors import CheckDefinitionError
from opencwpp.core.registry import Registry
from opencwpp.lake.dialect import transpile
from opencwpp.lake.lake import Lake

VIEWS_ROOT = Path(__file__).parent / "views"


@dataclass(frozen=True, slots=True)
class View:
    """A named SELECT (DuckDB dialect) and the tables it reads."""

    name: str
    sql: str
    tables: frozenset[str]


def load_view(path: Path) -> View:
    """Reads one view file; the view is named after the file."""
    sql = path.read_text(encoding="utf-8").strip().rstrip(";")
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError as err:
        raise CheckDefinitionError(f"{path}: {str(err).splitlines()[0]}") from err
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    tables = frozenset(t.name for t in tree.find_all(exp.Table) if t.name not in ctes)
    return View(name=path.stem, sql=sql, tables=tables)


@lru_cache(maxsize=1)
def builtin_views() -> Registry[View]:
    """The views that ship with opencwpp."""
    views: Registry[View] = Registry("view")
    for path in sorted(VIEWS_ROOT.glob("*.sql")):
        view = load_view(path)
        views.add(view.name, view)
    return views


def drop_views(lake: Lake, views: Iterable[View]) -> None:
    """Drops the views (PostgreSQL refuses to drop a table a view still reads)."""
    for view in views:
        lake.execute(f'DROP VIEW IF EXISTS "{view.name}"')


def ensure_views(lake: Lake, views: Iterable[View], present: set[str]) -> set[str]:
    """(Re)creates each view whose tables are all in `present`; returns the names created."""
    created = set()
    for view in views:
        lake.execute(f'DROP VIEW IF EXISTS "{view.name}"')
        if view.tables <= present:
            lake.execute(f'CREATE VIEW "{view.name}" AS {transpile(view.sql, lake.dialect)}')
            created.add(view.name)
    return created


def names_with_views(lake: Lake) -> set[str]:
    """The lake's tables, after (re)creating the built-in views they allow; views included."""
    present = lake.table_names()
    views = list(builtin_views())
    return (present - {v.name for v in views}) | ensure_views(lake, views, present)
