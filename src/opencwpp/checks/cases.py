"""A check's cases: lake rows in, expected PASS/FAIL per resource out.

`cases.yaml` is a list of cases; each names its input rows per table and the expected status of
each resource uid. Timestamps may be written relative to now (`@now-120d`, `@now+3d`,
`@now-2h`) so age-based checks keep their meaning as time passes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from opencwpp.checks.discovery import Check
from opencwpp.checks.engine import run_check
from opencwpp.checks.views import (
    base_tables,
    builtin_views,
    drop_views,
    ensure_views,
    with_dependencies,
)
from opencwpp.core.errors import CheckDefinitionError
from opencwpp.core.models import Status
from opencwpp.lake.lake import Lake
from opencwpp.lake.schema import TIMESTAMP, Table

_RELATIVE = re.compile(r"^@now(?:([+-])(\d+)([dhm]))?$")
# In text and JSON values: `@now-91d` becomes an ISO-8601 UTC time, `@today-30d` a date, as
# API payloads (credential reports, release calendars, certificate dates) spell them.
_RELATIVE_TEXT = re.compile(r"^@(now|today)(?:([+-])(\d+)([dhm]))?$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@dataclass(frozen=True, slots=True)
class Case:
    """One case of a check."""

    name: str
    tables: dict[str, list[dict[str, Any]]]
    expect: dict[str, Status]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What a case expected and what the check said."""

    check_id: str
    case: Case
    got: dict[str, Status]

    @property
    def ok(self) -> bool:
        """Whether the check said exactly what the case expects."""
        return self.got == self.case.expect


def relative_text(value: Any, now: datetime) -> Any:
    """`value` with every `@now±N` / `@today±N` string (at any depth) made absolute."""
    if isinstance(value, dict):
        return {k: relative_text(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [relative_text(v, now) for v in value]
    match = _RELATIVE_TEXT.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    kind, sign, amount, unit = match.groups()
    moment = now
    if sign:
        delta = timedelta(**{_UNITS[unit]: int(amount)})
        moment = now + delta if sign == "+" else now - delta
    return moment.date().isoformat() if kind == "today" else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: Any, now: datetime) -> Any:
    if not isinstance(value, str):
        return value
    match = _RELATIVE.match(value)
    if match:
        sign, amount, unit = match.groups()
        if not sign:
            return now
        delta = timedelta(**{_UNITS[unit]: int(amount)})
        return now + delta if sign == "+" else now - delta
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def load_cases(check: Check) -> list[Case]:
    """Parses the check's cases file; errors name the file and the problem."""
    path = check.cases_path
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise CheckDefinitionError(f"{path}: {str(err).splitlines()[0]}") from err
    if not isinstance(raw, list) or not raw:
        raise CheckDefinitionError(f"{path}: expected a non-empty list of cases")
    cases = []
    for index, item in enumerate(raw):
        where = f"{path}: case {index + 1}"
        if not isinstance(item, dict) or set(item) - {"name", "tables", "expect"}:
            raise CheckDefinitionError(f"{where}: keys are name, tables, expect")
        tables, expect = item.get("tables") or {}, item.get("expect") or {}
        if not isinstance(tables, dict) or not isinstance(expect, dict):
            raise CheckDefinitionError(f"{where}: tables and expect must be mappings")
        unknown = set(tables) - set(check.meta.tables)
        if unknown:
            raise CheckDefinitionError(
                f"{where}: table(s) {', '.join(sorted(unknown))} not in the check's tables"
            )
        try:
            statuses = {str(uid): Status(str(s).upper()) for uid, s in expect.items()}
        except ValueError as err:
            raise CheckDefinitionError(f"{where}: {err}") from err
        cases.append(Case(str(item.get("name") or f"case {index + 1}"), tables, statuses))
    return cases


def run_case(lake: Lake, check: Check, case: Case, catalog: Mapping[str, Table]) -> CaseResult:
    """Loads the case's rows into empty tables of `lake`, runs the check, compares."""
    now = datetime.now(UTC)
    views = builtin_views()
    used = with_dependencies([views.get(n) for n in check.meta.tables if n in views], views)
    names = [n for n in check.meta.tables if n not in views]
    names += sorted(base_tables(used) - set(names))
    tables = []
    for name in names:
        if name not in catalog:
            raise CheckDefinitionError(f"check {check.id}: unknown table {name}")
        tables.append(catalog[name])
    drop_views(lake, views)
    for tbl in tables:
        lake.execute(f'DROP TABLE IF EXISTS "{tbl.name}"')
    lake.ensure_tables(tables)
    for tbl in tables:
        rows = []
        for row in case.tables.get(tbl.name) or []:
            unknown = set(row) - set(tbl.column_names)
            if unknown:
                raise CheckDefinitionError(
                    f"check {check.id}, case {case.name!r}: {tbl.name} has no column(s) "
                    + ", ".join(sorted(unknown))
                )
            values = {
                k: _timestamp(v, now) if tbl.column_type(k) == TIMESTAMP else relative_text(v, now)
                for k, v in row.items()
            }
            values.setdefault("_cq_id", str(uuid.uuid4()))
            rows.append(values)
        lake.insert_rows(tbl, rows)
    present = {t.name for t in tables}
    present |= ensure_views(lake, used, present)
    got = {f.resource.uid: f.status for f in run_check(lake, check, present)}
    return CaseResult(check.id, case, got)
