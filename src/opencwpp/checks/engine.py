"""Runs posture checks over the lake and turns their rows into findings.

A check never calls a cloud API: it reads the lake. When a table it reads was not collected, or
was collected as "not assessed" for some account/region, the check says NOT_ASSESSED there with
the reason, never PASS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from opencwpp.checks.discovery import OUTPUT_COLUMNS, Check
from opencwpp.checks.views import names_with_views
from opencwpp.core.errors import CheckDefinitionError
from opencwpp.core.models import Finding, ResourceRef, Status
from opencwpp.lake.lake import Lake

SYNC_SCOPES_TABLE = "cwpp_sync_scopes"


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


def run_check(lake: Lake, check: Check, table_names: set[str] | None = None) -> list[Finding]:
    """Runs one check; returns one finding per judged resource (plus NOT_ASSESSED scopes)."""
    present = table_names if table_names is not None else names_with_views(lake)
    missing = [t for t in check.meta.tables if t not in present]
    if missing:
        reason = "not collected: " + ", ".join(missing)
        return [_finding(check, Status.NOT_ASSESSED, _scope_resource(check, "", ""), reason)]
    empty = [
        t for t in check.meta.reference_tables if not lake.query(f'SELECT 1 FROM "{t}" LIMIT 1')
    ]
    if empty:
        reason = "no reference data loaded: " + ", ".join(empty)
        return [_finding(check, Status.NOT_ASSESSED, _scope_resource(check, "", ""), reason)]
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
            raise CheckDefinitionError(
                f"check {check.id}: status must be PASS or FAIL, got {row['status']!r}"
            )
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
