"""The dashboard's reads: parameterised SQL over `cwpp_findings`, paged and grouped in the lake.

Every value a user types is a bound parameter; the only interpolated identifiers come from the
fixed allow-lists below. Queries are portable SQL (`?` placeholders), run as is on DuckDB and
PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from opencwpp.core.errors import UsageError
from opencwpp.core.models import Pillar, Severity, Status
from opencwpp.lake.lake import Lake

PAGE_SIZE = 100
GROUPS = {"check": "check_id", "resource": "resource_uid", "account": "account_id"}
SEVERITY_BY_RANK = {s.rank: s.value for s in Severity}
_COLUMNS = (
    "finding_id, check_id, title, pillar, severity, severity_rank, status, status_reason, "
    "lifecycle, resource_uid, resource_type, account_id, region, resource_name, resource_tags, "
    "evidence, remediation, compliance, mitre_attack, first_seen, last_seen, resolved_at"
)
_JSON_COLUMNS = ("resource_tags", "evidence", "compliance", "mitre_attack")


@dataclass(frozen=True, slots=True)
class FindingQuery:
    """Filters of the findings page and API; empty fields match everything."""

    q: str = ""
    severity: str = ""  # minimum severity
    pillar: str = ""
    status: str = ""
    account: str = ""
    region: str = ""
    check: str = ""
    resource: str = ""
    check_prefix: str = ""

    def validated(self) -> FindingQuery:
        """The query, with enum values checked (a clear error instead of an empty page)."""
        if self.severity and self.severity not in {s.value for s in Severity}:
            raise UsageError(f"unknown severity {self.severity!r}")
        if self.pillar and self.pillar not in {p.value for p in Pillar}:
            raise UsageError(f"unknown pillar {self.pillar!r}")
        if self.status and self.status not in {s.value for s in Status}:
            raise UsageError(f"unknown status {self.status!r}")
        return self

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition and its parameters."""
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        for column, value in (
            ("pillar", self.pillar),
            ("status", self.status),
            ("account_id", self.account),
            ("region", self.region),
            ("check_id", self.check),
            ("resource_uid", self.resource),
        ):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.severity:
            clauses.append("severity_rank >= ?")
            params.append(Severity(self.severity).rank)
        if self.check_prefix:
            clauses.append("strpos(check_id, ?) = 1")
            params.append(self.check_prefix)
        if self.q:
            needle = self.q.lower()
            searched = ("check_id", "title", "resource_uid", "resource_name", "status_reason")
            clauses.append(
                "("
                + " OR ".join(f"strpos(lower(coalesce({c}, '')), ?) > 0" for c in searched)
                + ")"
            )
            params.extend([needle] * len(searched))
        return " AND ".join(clauses), params


def _ready(lake: Lake) -> bool:
    return lake.table_exists("cwpp_findings")


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for column in _JSON_COLUMNS:
        if isinstance(row.get(column), str):
            row[column] = json.loads(row[column])
    return row


def _run(lake: Lake, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    # Lake.query transpiles parameterless SQL; these statements are portable either way.
    return lake.query(sql, params) if params else lake.query(sql)


def count_findings(lake: Lake, query: FindingQuery) -> int:
    """How many findings match."""
    if not _ready(lake):
        return 0
    where, params = query.where()
    rows = _run(lake, f"SELECT count(*) AS n FROM cwpp_findings WHERE {where}", params)
    return int(rows[0]["n"])


def find(
    lake: Lake, query: FindingQuery, page: int = 1, size: int = PAGE_SIZE
) -> list[dict[str, Any]]:
    """One page of matching findings, most severe first."""
    if not _ready(lake):
        return []
    where, params = query.where()
    offset = (max(page, 1) - 1) * size
    sql = (
        f"SELECT {_COLUMNS} FROM cwpp_findings WHERE {where} "
        "ORDER BY severity_rank DESC, check_id, resource_uid, finding_id "
        f"LIMIT {int(size)} OFFSET {int(offset)}"
    )
    return [_decode(r) for r in _run(lake, sql, params)]


def groups(lake: Lake, query: FindingQuery, by: str, limit: int = 200) -> list[dict[str, Any]]:
    """Matching findings grouped by check, resource or account, most failing first."""
    if by not in GROUPS:
        raise UsageError(f"unknown grouping {by!r}: use one of {', '.join(GROUPS)}")
    if not _ready(lake):
        return []
    column = GROUPS[by]
    where, params = query.where()
    sql = (
        f"SELECT {column} AS key, count(*) AS total, "
        "sum(CASE WHEN status = 'FAIL' THEN 1 ELSE 0 END) AS failing, "
        "max(severity_rank) AS top_rank, max(title) AS title "
        f"FROM cwpp_findings WHERE {where} GROUP BY {column} "
        f"ORDER BY failing DESC, top_rank DESC, key LIMIT {int(limit)}"
    )
    rows = _run(lake, sql, params)
    for row in rows:
        row["top_severity"] = SEVERITY_BY_RANK.get(int(row["top_rank"] or 0), "informational")
        row["failing"] = int(row["failing"] or 0)
    return rows


def matrix(lake: Lake, by: str = "pillar") -> dict[str, dict[str, int]]:
    """Failing findings counted per `by` (pillar or account_id) and severity."""
    if by not in ("pillar", "account_id") or not _ready(lake):
        return {}
    rows = lake.query(
        f"SELECT {by} AS key, severity, count(*) AS n FROM cwpp_findings "
        f"WHERE status = ? GROUP BY {by}, severity",
        ["FAIL"],
    )
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row["key"] or "", {})[row["severity"]] = int(row["n"])
    return out


def scores(lake: Lake, by: str = "pillar") -> dict[str, dict[str, Any]]:
    """Per pillar or account: passing and assessed findings and the score, passing / assessed.

    Assessed means PASS or FAIL; muted and not-assessed findings count for neither side. The
    score is None when nothing was assessed.
    """
    if by not in ("pillar", "account_id") or not _ready(lake):
        return {}
    rows = lake.query(
        f"SELECT {by} AS key, status, count(*) AS n FROM cwpp_findings "
        f"WHERE status IN (?, ?) GROUP BY {by}, status",
        ["PASS", "FAIL"],
    )
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = out.setdefault(row["key"] or "", {"passing": 0, "assessed": 0, "score": None})
        entry["assessed"] += int(row["n"])
        if row["status"] == "PASS":
            entry["passing"] += int(row["n"])
    for entry in out.values():
        entry["score"] = entry["passing"] / entry["assessed"] if entry["assessed"] else None
    return out


def status_totals(lake: Lake) -> dict[str, int]:
    """Findings per status."""
    if not _ready(lake):
        return {}
    rows = lake.query("SELECT status, count(*) AS n FROM cwpp_findings GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}


def compliance_rows(lake: Lake) -> list[tuple[str, str, dict[str, list[str]]]]:
    """(check id, status, compliance references) of every finding that has references."""
    if not _ready(lake):
        return []
    rows = lake.query("SELECT check_id, status, compliance FROM cwpp_findings")
    out = []
    for row in rows:
        refs = row["compliance"]
        refs = json.loads(refs) if isinstance(refs, str) else refs
        if refs:
            out.append((row["check_id"], row["status"], refs))
    return out


def finding_history(lake: Lake, finding_ids: list[str]) -> list[dict[str, Any]]:
    """The history rows of these findings with their run's kind, newest first."""
    if not finding_ids or not lake.table_exists("cwpp_finding_history"):
        return []
    marks = ", ".join("?" for _ in finding_ids[:500])
    return lake.query(
        "SELECT h.run_id, h.finding_id, h.check_id, h.status, h.lifecycle, h.severity, h.seen_at, "
        "r.kind FROM cwpp_finding_history h LEFT JOIN cwpp_runs r ON r.run_id = h.run_id "
        f"WHERE h.finding_id IN ({marks}) ORDER BY h.seen_at DESC, h.check_id LIMIT 500",
        finding_ids[:500],
    )
