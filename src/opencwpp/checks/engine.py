"""Runs posture checks over the lake and turns their rows into findings.

A check never calls a cloud API: it reads the lake. When a table it reads was not collected, or
was collected as "not assessed" for some account/region, the check says NOT_ASSESSED there with
the reason, never PASS.

Two ways to run a check give the same findings. `run_check` returns `Finding` objects (cases,
small lakes); `staged_select` is its SQL twin, which lets the assessment keep a million rows
inside the database: it renders the check's SELECT wrapped to compute, per row, what
`run_check` computes in Python (status, resource fields, tags; the finding id is hashed later,
for new findings only).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from opencwpp.checks.discovery import OUTPUT_COLUMNS, Check
from opencwpp.checks.views import names_with_views
from opencwpp.core.errors import CheckDefinitionError
from opencwpp.core.models import Finding, ResourceRef, Status
from opencwpp.lake.dialect import transpile
from opencwpp.lake.lake import Lake

SYNC_SCOPES_TABLE = "cwpp_sync_scopes"
# The columns `staged_select` returns, in this order (status_reason is NULL: the detail).
STAGED_COLUMNS = (
    "check_id",
    "status",
    "detail",
    "resource_uid",
    "account_id",
    "region",
    "resource_name",
    "resource_tags",
    "seq",
    "status_reason",
)


def _tags(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {}


def _finding(check: Check, status: Status, resource: ResourceRef, reason: str) -> Finding:
    meta = check.meta
    return Finding(
        check_id=meta.id,
        title=meta.title,
        pillar=meta.pillar,
        severity=meta.severity,
        status=status,
        resource=resource,
        status_reason=reason,
        evidence={"detail": reason} if reason else {},
        remediation=meta.remediation,
        compliance=meta.compliance,
        mitre_attack=tuple(meta.mitre_attack),
    )


def _scope_resource(check: Check, account_id: str, region: str) -> ResourceRef:
    uid = f"{check.meta.provider}:{account_id or '*'}:{region or 'global'}:{check.meta.service}"
    return ResourceRef(uid=uid, type=check.meta.resource_type, account_id=account_id, region=region)


def _not_assessed_scopes(lake: Lake, check: Check) -> list[Finding]:
    if SYNC_SCOPES_TABLE not in lake.table_names():
        return []
    marks = ", ".join("?" for _ in check.meta.tables)
    rows = lake.query(
        f"SELECT table_name, account_id, region, reason FROM {SYNC_SCOPES_TABLE} "
        f"WHERE status <> 'ok' AND table_name IN ({marks}) "
        "ORDER BY account_id, region, table_name",
        check.meta.tables,
    )
    seen: dict[tuple[str, str], str] = {}
    for row in rows:
        key = (row["account_id"], row["region"] or "")
        seen.setdefault(key, f"{row['table_name']} not assessed: {row['reason']}")
    return [
        _finding(check, Status.NOT_ASSESSED, _scope_resource(check, acct, region), reason)
        for (acct, region), reason in seen.items()
    ]


def unassessable(lake: Lake, check: Check, present: set[str]) -> Finding | None:
    """The single NOT_ASSESSED finding of a check that cannot run here, else None.

    A check cannot run when a table it reads was not collected, or when reference data it
    needs (say, end-of-life dates) is empty: judging nothing must not read as PASS.
    """
    missing = [t for t in check.meta.tables if t not in present]
    if missing:
        reason = "not collected: " + ", ".join(missing)
        return _finding(check, Status.NOT_ASSESSED, _scope_resource(check, "", ""), reason)
    empty = [
        t for t in check.meta.reference_tables if not lake.query(f'SELECT 1 FROM "{t}" LIMIT 1')
    ]
    if empty:
        reason = "no reference data loaded: " + ", ".join(empty)
        return _finding(check, Status.NOT_ASSESSED, _scope_resource(check, "", ""), reason)
    return None


def _status_error(check: Check, value: Any) -> CheckDefinitionError:
    return CheckDefinitionError(f"check {check.id}: status must be PASS or FAIL, got {value!r}")


def run_check(lake: Lake, check: Check, table_names: set[str] | None = None) -> list[Finding]:
    """Runs one check; returns one finding per judged resource (plus NOT_ASSESSED scopes)."""
    present = table_names if table_names is not None else names_with_views(lake)
    cannot = unassessable(lake, check, present)
    if cannot is not None:
        return [cannot]
    rows = lake.query(check.sql)
    findings = []
    for row in rows:
        absent = [c for c in OUTPUT_COLUMNS if c not in row]
        if absent:
            raise CheckDefinitionError(
                f"check {check.id}: its SQL must return the column(s) {', '.join(absent)}"
            )
        status = str(row["status"]).upper()
        if status not in (Status.PASS.value, Status.FAIL.value):
            raise _status_error(check, row["status"])
        resource = ResourceRef(
            uid=str(row["resource_uid"]),
            type=check.meta.resource_type,
            account_id=str(row["account_id"] or ""),
            region=str(row["region"] or ""),
            name=str(row["resource_name"] or ""),
            tags=_tags(row.get("tags")),
        )
        findings.append(_finding(check, Status(status), resource, str(row["detail"] or "")))
    return findings + _not_assessed_scopes(lake, check)


def run_checks(lake: Lake, checks: Iterable[Check]) -> list[Finding]:
    """Runs every given check; findings in check order."""
    present = names_with_views(lake)
    out: list[Finding] = []
    for check in checks:
        out.extend(run_check(lake, check, present))
    return out


# -- the SQL twin of run_check ------------------------------------------------------------------


@lru_cache(maxsize=4096)
def output_columns(sql: str) -> tuple[str, ...] | None:
    """The column names a check's SELECT returns, or None when only running it would tell."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError:
        return None
    if not isinstance(tree, exp.Query):
        return None
    names = tuple(tree.named_selects)
    return None if "*" in names or not names else names


def _text(expr: str, dialect: str) -> str:
    return f"CAST({expr} AS {'text' if dialect == 'postgres' else 'VARCHAR'})"


def _tags_sql(dialect: str, has_tags: bool) -> str:
    # `_tags`: a JSON object, else {} (absent, NULL, an array, a scalar, text that is not JSON).
    if dialect == "postgres":
        if not has_tags:
            return "CAST('{}' AS jsonb)"
        return (
            "CASE WHEN jsonb_typeof(CAST(q.tags AS jsonb)) = 'object' "
            "THEN CAST(q.tags AS jsonb) ELSE CAST('{}' AS jsonb) END"
        )
    if not has_tags:
        return "CAST('{}' AS JSON)"
    return (
        "CASE WHEN json_type(TRY_CAST(q.tags AS JSON)) = 'OBJECT' "
        "THEN CAST(q.tags AS JSON) ELSE CAST('{}' AS JSON) END"
    )


def read_instead(sql: str, tables: Mapping[str, str]) -> str:
    """`sql` (DuckDB dialect) reading `tables[name]` wherever it reads the table or view `name`.

    The replacement keeps the old name as its alias, so columns qualified by it still resolve.
    """
    # A name the text does not contain is read nowhere: most checks skip the parse (a few ms
    # each, a second over every check of a run).
    text = sql.lower()
    if not any(name.lower() in text for name in tables):
        return sql
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Table) or node.db or node.name not in tables:
            return node
        if node.name in ctes:  # a CTE of the same name shadows the table
            return node
        table = exp.to_table(tables[node.name])
        table.set(
            "alias", node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
        )
        return table

    return tree.transform(swap).sql(dialect="duckdb")


def staged_select(
    check: Check, dialect: str, seq: int, tables: Mapping[str, str] | None = None
) -> str | None:
    """The check's rows as `STAGED_COLUMNS`, in `dialect`; None if its columns are unknown.

    Mirrors `run_check` row by row: NULL uid as 'None' and NULL account, region, name and
    detail as '', status upper-cased (validated afterwards by `bad_status_sql`), tags as a JSON
    object. The finding id is left to the lifecycle, which computes it for new findings only.
    `tables` maps views the check reads to tables holding their rows for this run.
    Raises `CheckDefinitionError` when the SELECT lacks an output column.
    """
    names = output_columns(check.sql)
    if names is None:
        return None
    absent = [c for c in OUTPUT_COLUMNS if c not in names]
    if absent:
        raise CheckDefinitionError(
            f"check {check.id}: its SQL must return the column(s) {', '.join(absent)}"
        )
    return (
        f"SELECT CAST('{check.id}' AS {'text' if dialect == 'postgres' else 'VARCHAR'}) "
        "AS check_id, "  # ids are lower_snake_case (validated on load)
        f"upper({_text('q.status', dialect)}) AS status, "
        f"COALESCE({_text('q.detail', dialect)}, '') AS detail, "
        f"COALESCE({_text('q.resource_uid', dialect)}, 'None') AS resource_uid, "
        f"COALESCE({_text('q.account_id', dialect)}, '') AS account_id, "
        f"COALESCE({_text('q.region', dialect)}, '') AS region, "
        f"COALESCE({_text('q.resource_name', dialect)}, '') AS resource_name, "
        f"{_tags_sql(dialect, 'tags' in names)} AS resource_tags, "
        f"CAST({int(seq)} AS BIGINT) AS seq, {_text('NULL', dialect)} AS status_reason "
        f"FROM ({transpile(read_instead(check.sql, tables or {}), dialect)}) AS q"
    )


def bad_status_sql(table: str, checks_table: str) -> str:
    """The first check (in run order) whose SQL returned a status other than PASS or FAIL.

    `table` holds staged rows, `checks_table` (check_id, ran) says whose SQL ran.
    """
    return (
        f"SELECT f.check_id FROM {table} AS f "
        f"JOIN {checks_table} AS c ON c.check_id = f.check_id AND c.ran "
        "WHERE f.status IS NULL OR f.status NOT IN ('PASS', 'FAIL') ORDER BY f.seq LIMIT 1"
    )


def raise_bad_status(lake: Lake, check: Check) -> None:
    """Raises the `run_check` error for a check whose SQL returns a status other than PASS/FAIL."""
    probe = (  # DuckDB dialect: `lake.query` transpiles it with the check's SQL inside
        f"SELECT q.status FROM ({check.sql}) AS q "
        "WHERE q.status IS NULL OR upper(CAST(q.status AS VARCHAR)) NOT IN ('PASS', 'FAIL') "
        "LIMIT 1"
    )
    rows = lake.query(probe)
    raise _status_error(check, rows[0]["status"] if rows else None)


def scope_rows_select(dialect: str, checks_table: str, check_tables_table: str) -> str:
    """`_not_assessed_scopes` for many checks at once, as `STAGED_COLUMNS`.

    `checks_table` holds (check_id, seq, provider, service, ran) per check of the run and
    `check_tables_table` (check_id, table_name) the tables each reads; only checks whose SQL
    ran get scope rows. Per check, account and region, the first table in name order gives the
    reason, as in `_not_assessed_scopes`.
    """
    uid = (
        "p.provider || ':' || COALESCE(NULLIF(p.account_id, ''), '*') || ':' "
        "|| COALESCE(NULLIF(p.region, ''), 'global') || ':' || p.service"
    )
    empty = "CAST('{}' AS jsonb)" if dialect == "postgres" else "CAST('{}' AS JSON)"
    return (
        f"SELECT p.check_id, 'NOT_ASSESSED', p.reason, {uid}, p.account_id, p.region, '', "
        f"{empty}, p.seq, {_text('NULL', dialect)} FROM ("
        "SELECT c.check_id, c.seq, c.provider, c.service, "
        "COALESCE(x.account_id, '') AS account_id, COALESCE(x.region, '') AS region, "
        "x.table_name || ' not assessed: ' || COALESCE(x.reason, 'None') AS reason, "
        "row_number() OVER (PARTITION BY c.check_id, x.account_id, COALESCE(x.region, '') "
        "ORDER BY x.region, x.table_name) AS rn "
        f"FROM {SYNC_SCOPES_TABLE} AS x "
        f"JOIN {check_tables_table} AS m ON m.table_name = x.table_name "
        f"JOIN {checks_table} AS c ON c.check_id = m.check_id "
        "WHERE x.status <> 'ok' AND c.ran) AS p WHERE p.rn = 1"
    )
