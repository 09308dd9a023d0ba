"""Reading stored findings back as `Finding` objects, filtered."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings.tables import FINDINGS, GONE_REASON
from opencwpp.lake.lake import Lake


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding as kept in the lake, with its lifecycle."""

    finding: Finding
    lifecycle: str | None
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FindingFilter:
    """Which stored findings to load; empty fields match everything."""

    statuses: tuple[str, ...] = ()
    min_severity: Severity | None = None
    pillars: tuple[str, ...] = ()
    check_ids: tuple[str, ...] = ()
    resource: str = ""


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row with its JSON columns as objects (DuckDB returns text, PostgreSQL objects)."""
    out = dict(row)
    for column in ("resource_tags", "evidence", "compliance", "mitre_attack"):
        if isinstance(out.get(column), str):
            out[column] = json.loads(out[column])
    return out


def _from_row(row: dict[str, Any]) -> StoredFinding:
    row = jsonable(row)
    finding = Finding(
        check_id=row["check_id"],
        title=row["title"],
        pillar=Pillar(row["pillar"]),
        severity=Severity(row["severity"]),
        status=Status(row["status"]),
        resource=ResourceRef(
            uid=row["resource_uid"],
            type=row["resource_type"] or "",
            account_id=row["account_id"] or "",
            region=row["region"] or "",
            name=row["resource_name"] or "",
            tags=row["resource_tags"] or {},
        ),
        status_reason=row["status_reason"] or "",
        evidence=row["evidence"] or {},
        remediation=row["remediation"] or "",
        compliance=row["compliance"] or {},
        mitre_attack=tuple(row["mitre_attack"] or ()),
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
    )
    return StoredFinding(finding, row["lifecycle"], row["resolved_at"])


def load_findings(lake: Lake, where: FindingFilter | None = None) -> list[StoredFinding]:
    """Stored findings matching the filter, most severe first."""
    if not lake.table_exists(FINDINGS.name):
        return []
    where = where or FindingFilter()
    clauses: list[str] = ["1 = 1"]
    params: list[object] = []
    if where.statuses:
        clauses.append("status IN (" + ", ".join("?" for _ in where.statuses) + ")")
        params.extend(where.statuses)
    if where.min_severity is not None:
        clauses.append("severity_rank >= ?")
        params.append(where.min_severity.rank)
    if where.pillars:
        clauses.append("pillar IN (" + ", ".join("?" for _ in where.pillars) + ")")
        params.extend(where.pillars)
    if where.check_ids:
        clauses.append("check_id IN (" + ", ".join("?" for _ in where.check_ids) + ")")
        params.extend(where.check_ids)
    if where.resource:
        clauses.append("(strpos(resource_uid, ?) > 0 OR strpos(resource_name, ?) > 0)")
        params.extend([where.resource, where.resource])
    sql = (
        "SELECT * FROM cwpp_findings WHERE "
        + " AND ".join(clauses)
        + " ORDER BY severity_rank DESC, check_id, resource_uid"
    )
    rows = lake.query(sql, params) if params else lake.query(sql)
    return [_from_row(r) for r in rows]


def load_run_findings(lake: Lake, run_id: str, check_ids: Sequence[str]) -> list[Finding]:
    """The findings one run produced for its checks (not those it resolved as gone)."""
    if not check_ids or not lake.table_exists(FINDINGS.name):
        return []
    marks = ", ".join("?" for _ in check_ids)
    rows = lake.query(
        f"SELECT * FROM cwpp_findings WHERE last_run_id = ? AND check_id IN ({marks}) "
        "AND NOT (status = 'PASS' AND lifecycle = 'RESOLVED' AND status_reason = ? "
        "AND resolved_at = last_seen) ORDER BY check_id, resource_uid",
        [run_id, *check_ids, GONE_REASON],
    )
    return [_from_row(r).finding for r in rows]
