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


def in_dependency_order(views: Iterable[View]) -> list[View]:
    """The views with each one after the views it reads (a view may read another view)."""
    pending = {v.name: v for v in views}
    ordered: list[View] = []
    while pending:
        ready = [v for v in pending.values() if not (v.tables & pending.keys() - {v.name})]
        if not ready:
            raise CheckDefinitionError(f"views read each other in a cycle: {sorted(pending)}")
        for view in sorted(ready, key=lambda v: v.name):
            ordered.append(pending.pop(view.name))
    return ordered


def with_dependencies(views: Iterable[View], registry: Registry[View]) -> list[View]:
    """The views and every view they read, transitively, in dependency order."""
    found: dict[str, View] = {}
    stack = list(views)
    while stack:
        view = stack.pop()
        if view.name not in found:
            found[view.name] = view
            stack += [registry.get(t) for t in view.tables if t in registry]
    return in_dependency_order(found.values())


def base_tables(views: Iterable[View]) -> set[str]:
    """The lake tables (not views) the views read."""
    views = list(views)
    names = {v.name for v in views}
    return {t for v in views for t in v.tables} - names


def drop_views(lake: Lake, views: Iterable[View]) -> None:
    """Drops the views, readers first (PostgreSQL refuses to drop what a view still reads)."""
    for view in reversed(in_dependency_order(views)):
        lake.execute(f'DROP VIEW IF EXISTS "{view.name}"')


def ensure_views(lake: Lake, views: Iterable[View], present: set[str]) -> set[str]:
    """(Re)creates each view whose tables (or views) are all present; returns the names created."""
    ordered = in_dependency_order(views)
    drop_views(lake, ordered)
    created: set[str] = set()
    for view in ordered:
        if view.tables <= present | created:
            lake.execute(f'CREATE VIEW "{view.name}" AS {transpile(view.sql, lake.dialect)}')
            created.add(view.name)
    return created


def names_with_views(lake: Lake) -> set[str]:
    """The lake's tables, after (re)creating the built-in views they allow; views included."""
    present = lake.table_names()
    views = list(builtin_views())
    return (present - {v.name for v in views}) | ensure_views(lake, views, present)
