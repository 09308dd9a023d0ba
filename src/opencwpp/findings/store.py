"""Runs and findings in the lake, with history.

`cwpp_findings` holds the current state of every finding id; `cwpp_finding_history` appends one
row per finding per run. A finding's lifecycle says what changed: NEW (failing now, not
failing in the run before), OPEN (still failing) or RESOLVED (failing before, now passing or its
resource gone).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from opencwpp.core.models import Finding, Status
from opencwpp.findings.read import jsonable
from opencwpp.findings.tables import (
    FINDING_STATE,
    FINDINGS,
    GONE_REASON,
    HISTORY,
    NEW,
    OPEN,
    RESOLVED,
    RUNS,
    findings_view_sql,
    own_tables,
)
from opencwpp.lake.lake import Lake


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_own_tables(lake: Lake) -> None:
    """Creates our tables and the view `cwpp_findings` if missing.

    A lake made before the view existed has `cwpp_findings` as a table with every field on
    every row: it becomes `cwpp_finding_state` as it is (rows with their metadata keep it).
    On PostgreSQL `cwpp_finding_state` leaves half of each page free: every assessment updates
    every finding (last seen), and an update that fits in its page skips the index (a HOT
    update), three times faster. (`ALTER TABLE cwpp_finding_state SET (fillfactor = 50)` and
    `VACUUM FULL cwpp_finding_state` give a lake made before this the same.)
    """
    names = lake.table_names()
    if FINDINGS.name in names and FINDING_STATE.name not in names:
        lake.execute(f"ALTER TABLE {FINDINGS.name} RENAME TO {FINDING_STATE.name}")
        names = lake.table_names()
    created = FINDING_STATE.name not in names
    lake.ensure_tables(own_tables(lake.dialect))
    if created and lake.dialect == "postgres":
        lake.execute(f"ALTER TABLE {FINDING_STATE.name} SET (fillfactor = 50)")
    if FINDINGS.name not in names:
        lake.execute(findings_view_sql())


def start_run(lake: Lake, kind: str) -> str:
    """Records the start of a run (sync, assess, scan); returns its id."""
    ensure_own_tables(lake)
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    lake.insert_rows(
        RUNS, [{"run_id": run_id, "kind": kind, "started_at": _now(), "status": "running"}]
    )
    return run_id


def finish_run(lake: Lake, run_id: str, status: str, summary: dict[str, Any]) -> None:
    """Records how a run ended."""
    lake.execute(
        "UPDATE cwpp_runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
        [_now(), status, json.dumps(summary, sort_keys=True), run_id],
    )


def _row(
    f: Finding,
    lifecycle: str | None,
    first_seen: datetime,
    now: datetime,
    run_id: str,
    resolved_at: datetime | None,
) -> dict[str, Any]:
    return {
        "finding_id": f.id,
        "check_id": f.check_id,
        "title": f.title,
        "pillar": f.pillar.value,
        "severity": f.severity.value,
        "severity_rank": f.severity.rank,
        "status": f.status.value,
        "status_reason": f.status_reason,
        "lifecycle": lifecycle,
        "resource_uid": f.resource.uid,
        "resource_type": f.resource.type,
        "account_id": f.resource.account_id,
        "region": f.resource.region,
        "resource_name": f.resource.name,
        "resource_tags": f.resource.tags,
        "evidence": f.evidence,
        "remediation": f.remediation,
        "compliance": f.compliance,
        "mitre_attack": list(f.mitre_attack),
        "first_seen": first_seen,
        "last_seen": now,
        "resolved_at": resolved_at,
        "last_run_id": run_id,
    }


def _scope_sql(checks: Sequence[str], resource_prefix: str | None) -> tuple[str, list[Any]]:
    where = "check_id IN (" + ", ".join("?" for _ in checks) + ")"
    params: list[Any] = list(checks)
    if resource_prefix is not None:
        where += " AND strpos(resource_uid, ?) = 1"
        params.append(resource_prefix)
    return where, params


def save_findings(
    lake: Lake,
    run_id: str,
    findings: Iterable[Finding],
    assessed_checks: Iterable[str],
    *,
    resource_prefix: str | None = None,
) -> dict[str, int]:
    """Stores a run's findings for the checks it ran; returns counts by lifecycle.

    The run's scope is its checks (those assessed plus those that produced a finding) and,
    when given, the resources whose uid starts with `resource_prefix` (a scan of one image
    judges that image only). Findings in scope that this run did not produce again are
    RESOLVED (their resource is gone); findings outside it are left as they were.
    """
    ensure_own_tables(lake)
    current = {f.id: f for f in findings}
    checks = sorted(set(assessed_checks) | {f.check_id for f in current.values()})
    if resource_prefix is not None:
        stray = [
            f.resource.uid
            for f in current.values()
            if not f.resource.uid.startswith(resource_prefix)
        ]
        if stray:
            raise ValueError(f"finding for {stray[0]!r} is outside {resource_prefix!r}")
    previous: dict[str, dict[str, Any]] = {}
    if checks:
        where, params = _scope_sql(checks, resource_prefix)
        for row in lake.query(f"SELECT * FROM cwpp_findings WHERE {where}", params):
            previous[row["finding_id"]] = row
    now = _now()
    rows, history, counts = [], [], {NEW: 0, OPEN: 0, RESOLVED: 0}
    for fid, f in current.items():
        before = previous.get(fid)
        was_failing = before is not None and before["status"] == Status.FAIL.value
        lifecycle: str | None
        if f.status is Status.FAIL:
            lifecycle = OPEN if was_failing else NEW
            first_seen = before["first_seen"] if was_failing and before else now
            resolved_at = None
        else:
            lifecycle = RESOLVED if was_failing else None
            first_seen = before["first_seen"] if before else now
            resolved_at = now if was_failing else (before or {}).get("resolved_at")
            if before is not None and not was_failing and before["lifecycle"] == RESOLVED:
                lifecycle = RESOLVED
        if lifecycle:
            counts[lifecycle] += 1
        rows.append(_row(f, lifecycle, first_seen, now, run_id, resolved_at))
    for fid, before in previous.items():
        if fid in current:
            continue
        if before["status"] == Status.FAIL.value:
            counts[RESOLVED] += 1
            before = {
                **before,
                "status": Status.PASS.value,
                "lifecycle": RESOLVED,
                "status_reason": GONE_REASON,
                "resolved_at": now,
                "last_seen": now,
                "last_run_id": run_id,
            }
        rows.append(before)
    for row in rows:
        history.append(
            {k: row[k] for k in ("finding_id", "check_id", "status", "lifecycle", "severity")}
            | {"run_id": run_id, "seen_at": now}
        )
    with lake.transaction():
        if checks:
            where, params = _scope_sql(checks, resource_prefix)
            lake.execute(f"DELETE FROM {FINDING_STATE.name} WHERE {where}", params)
        lake.insert_rows(FINDING_STATE, [jsonable(r) for r in rows])
        lake.insert_rows(HISTORY, history)
    return counts
