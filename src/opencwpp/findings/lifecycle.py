"""Lifecycle and storage of a staged run's findings, as set-based SQL in one transaction.

The same rules as `store.save_findings`, which does this in Python for the analyses that build
`Finding` objects (detections, vulnerabilities): a finding failing now is NEW, or OPEN if it
failed in the run before (keeping its first_seen); one passing now after failing is RESOLVED
(resolved_at = now) and stays RESOLVED while it passes; a finding of the run's checks that this
run did not produce again and that was failing is RESOLVED because its resource is gone; other
findings are left as they were. Every finding of the run's checks gets a history row.

Most findings are the same from one run to the next, so rows are changed in place rather than
rewritten: one outer join of the staged findings with the stored ones finds what is new, what
changed and what is gone (`cwpp_stage_delta`, small in a steady state); then every judged
finding gets its last_seen, the changed and gone ones their new state, and only new ones are
inserted. A column store writes a million wide rows far slower than it updates two columns.
"""

from __future__ import annotations

import re
from datetime import datetime

from opencwpp.findings.staging import (
    CHECKS_STAGE,
    STAGED,
    Stage,
    evidence_sql,
    finding_id_sql,
)
from opencwpp.findings.tables import FINDINGS, GONE_REASON, HISTORY, NEW, OPEN, RESOLVED
from opencwpp.lake.lake import Lake

DELTA = "cwpp_stage_delta"
_RUN_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")
_META = (
    "title",
    "pillar",
    "severity",
    "severity_rank",
    "resource_type",
    "remediation",
    "compliance",
    "mitre_attack",
)


def _json_differs(left: str, right: str, dialect: str) -> str:
    if dialect == "postgres":
        return f"{left} IS DISTINCT FROM {right}"
    return f"CAST({left} AS VARCHAR) IS DISTINCT FROM CAST({right} AS VARCHAR)"


def _delta_sql(dialect: str, now: str, scope: str) -> str:
    fail, was_failing = "s.status = 'FAIL'", "p.status = 'FAIL'"
    lifecycle = (
        f"CASE WHEN {fail} THEN (CASE WHEN {was_failing} THEN '{OPEN}' ELSE '{NEW}' END) "
        f"WHEN {was_failing} THEN '{RESOLVED}' "
        f"WHEN p.lifecycle = '{RESOLVED}' THEN '{RESOLVED}' END"
    )
    first_seen = (
        f"CASE WHEN {fail} THEN (CASE WHEN {was_failing} THEN p.first_seen ELSE {now} END) "
        f"WHEN p.finding_id IS NOT NULL THEN p.first_seen ELSE {now} END"
    )
    resolved_at = f"CASE WHEN {fail} THEN NULL WHEN {was_failing} THEN {now} ELSE p.resolved_at END"
    staged = (
        "SELECT check_id, status, COALESCE(status_reason, detail) AS reason, detail, "
        f"resource_uid, account_id, region, resource_name, resource_tags FROM {STAGED}"
    )
    # Joined on what the finding id is a hash of: no hash to compute for a known finding.
    stored = (
        "SELECT finding_id, check_id, COALESCE(account_id, '') AS account_id, "
        "COALESCE(region, '') AS region, resource_uid, status, status_reason, lifecycle, "
        "first_seen, resolved_at, resource_name, resource_tags "
        f"FROM {FINDINGS.name} WHERE check_id IN ({scope})"
    )
    on = " AND ".join(
        f"p.{c} = s.{c}" for c in ("check_id", "resource_uid", "account_id", "region")
    )
    # Evidence derives from the detail, which the reason is unless the finding is muted: muted
    # findings (few) are rewritten every run instead of carrying evidence through the join.
    changed = " OR ".join(
        [
            *(
                f"j.{c} IS DISTINCT FROM j.old_{c}"
                for c in ("status", "reason", "lifecycle", "first_seen", "resolved_at", "name")
            ),
            _json_differs("j.resource_tags", "j.old_tags", dialect),
            "j.status = 'MUTED'",
        ]
    )
    fid = finding_id_sql(dialect, "j.check_id", "j.account_id", "j.region", "j.resource_uid")
    return (
        f"CREATE TEMP TABLE {DELTA} AS SELECT COALESCE(j.finding_id, {fid}) AS finding_id, "
        "j.kind, j.check_id, j.status, j.reason, j.detail, j.resource_uid, j.account_id, "
        "j.region, j.resource_name, j.resource_tags, j.lifecycle, j.first_seen, "
        "j.resolved_at, j.old_status FROM ("
        "SELECT p.finding_id, "
        "CASE WHEN p.finding_id IS NULL THEN 'new' WHEN s.check_id IS NULL THEN 'gone' "
        "ELSE 'seen' END AS kind, "
        "s.check_id, s.status, s.reason, s.detail, s.resource_uid, s.account_id, s.region, "
        "s.resource_name, s.resource_name AS name, s.resource_tags, "
        f"{lifecycle} AS lifecycle, {first_seen} AS first_seen, {resolved_at} AS resolved_at, "
        "p.status AS old_status, p.status_reason AS old_reason, p.lifecycle AS old_lifecycle, "
        "p.first_seen AS old_first_seen, p.resolved_at AS old_resolved_at, "
        "p.resource_name AS old_name, p.resource_tags AS old_tags "
        f"FROM ({staged}) AS s FULL OUTER JOIN ({stored}) AS p ON {on}"
        f") AS j WHERE j.kind <> 'seen' OR {changed}"
    )


def _apply_sql(dialect: str, now: str, run: str, scope: str, kinds: dict[str, int]) -> list[str]:
    target = FINDINGS.name
    gone = f"SELECT finding_id FROM {DELTA} WHERE kind = 'gone'"
    meta_differs = " OR ".join(
        _json_differs(f"{target}.{c}", f"c.{c}", dialect)
        if c in ("compliance", "mitre_attack")
        else f"{target}.{c} IS DISTINCT FROM c.{c}"
        for c in _META
    )
    meta = ", ".join(f"{c} = c.{c}" for c in _META)
    columns = ", ".join(f'"{c}"' for c in FINDINGS.column_names)
    new_rows = (
        "d.finding_id, d.check_id, c.title, c.pillar, c.severity, c.severity_rank, d.status, "
        "d.reason, d.lifecycle, d.resource_uid, c.resource_type, d.account_id, d.region, "
        f"d.resource_name, d.resource_tags, {evidence_sql(dialect, 'd.detail')}, c.remediation, "
        f"c.compliance, c.mitre_attack, d.first_seen, {now}, d.resolved_at, {run}"
    )
    history = "finding_id, check_id, status, lifecycle, severity"
    if dialect == "postgres":
        # PostgreSQL writes a whole new row version per UPDATE: one pass sets last_seen and
        # the check's current title, severity, remediation … (a change is rare, a pass dear).
        seen = (
            f"UPDATE {target} SET last_seen = {now}, last_run_id = {run}, {meta} "
            f"FROM {CHECKS_STAGE.name} AS c WHERE {target}.check_id = c.check_id "
            f"AND {target}.finding_id NOT IN ({gone})"
        )
        metadata = []
    else:
        # DuckDB updates two narrow columns in place; comparing the wide ones is a cheap scan.
        seen = (
            f"UPDATE {target} SET last_seen = {now}, last_run_id = {run} "
            f"WHERE check_id IN ({scope}) AND finding_id NOT IN ({gone})"
        )
        metadata = [
            f"UPDATE {target} SET {meta} FROM {CHECKS_STAGE.name} AS c "
            f"WHERE {target}.check_id = c.check_id AND {target}.last_run_id = {run} "
            f"AND ({meta_differs}) AND {target}.finding_id NOT IN ({gone})"
        ]
    changed = (
        f"UPDATE {target} SET status = d.status, status_reason = d.reason, "
        "lifecycle = d.lifecycle, first_seen = d.first_seen, resolved_at = d.resolved_at, "
        "resource_name = d.resource_name, resource_tags = d.resource_tags, "
        f"evidence = {evidence_sql(dialect, 'd.detail')} "
        f"FROM {DELTA} AS d WHERE {target}.finding_id = d.finding_id AND d.kind = 'seen'"
    )
    # A failing finding not produced again: its resource is gone. (Others stay as they were.)
    gone_now = (
        f"UPDATE {target} SET status = 'PASS', lifecycle = '{RESOLVED}', "
        f"status_reason = '{GONE_REASON}', resolved_at = {now}, last_seen = {now}, "
        f"last_run_id = {run} FROM {DELTA} AS d WHERE {target}.finding_id = d.finding_id "
        "AND d.kind = 'gone' AND d.old_status = 'FAIL'"
    )
    insert_new = (
        f"INSERT INTO {target} ({columns}) SELECT {new_rows} FROM {DELTA} AS d "
        f"JOIN {CHECKS_STAGE.name} AS c ON c.check_id = d.check_id WHERE d.kind = 'new'"
    )
    # (A statement with nothing to do still scans: in a steady state most have nothing.)
    return [
        # Every finding judged now was last seen now, with its check's current metadata.
        seen,
        *metadata,
        *([changed] if kinds["seen"] else []),
        *([gone_now] if kinds["gone"] else []),
        *([insert_new] if kinds["new"] else []),
        f"INSERT INTO {HISTORY.name} (run_id, seen_at, {history}) "
        f"SELECT {run}, {now}, {history} FROM {target} WHERE check_id IN ({scope})",
    ]


def _kinds(lake: Lake) -> dict[str, int]:
    """How many delta rows are new, seen (and changed) and gone."""
    rows = lake.query(f"SELECT kind, count(*) AS n FROM {DELTA} GROUP BY kind")
    return {"new": 0, "seen": 0, "gone": 0} | {str(r["kind"]): int(r["n"]) for r in rows}


def _duplicated(lake: Lake, scope: str, staged: int, kinds: dict[str, int]) -> bool:
    """Whether the staged findings hold a finding twice, read off the delta at no extra pass.

    Every staged row that is not new matched exactly one stored finding, and every stored
    finding that is not gone matched at least one staged row: the two counts differ exactly
    when a known finding was staged twice. New ones are checked among themselves.
    """
    rows = lake.query(
        f"SELECT (SELECT count(*) FROM {FINDINGS.name} WHERE check_id IN ({scope})) AS stored, "
        f"(SELECT count(*) FROM (SELECT finding_id FROM {DELTA} WHERE kind = 'new' "
        "GROUP BY finding_id HAVING count(*) > 1) AS d) AS twice"
    )
    row = rows[0]
    stored, new, gone = int(row["stored"]), kinds["new"], kinds["gone"]
    return bool(row["twice"]) or staged - new != stored - gone


def save_staged(
    lake: Lake, stage: Stage, run_id: str, now: datetime, staged: int
) -> dict[str, int]:
    """Stores the staged findings of a run; returns counts by lifecycle (NEW, OPEN, RESOLVED).

    The run's scope is the checks in `cwpp_stage_checks`; `staged` is how many rows were
    staged. Duplicate findings (a check bug) are found on the way and removed
    (`Stage.deduplicate`, which sets `stage.deduplicated`). `now` is the run's time (naive UTC).
    """
    if not _RUN_ID.match(run_id):
        raise ValueError(f"unexpected run id {run_id!r}")
    stamp = f"CAST('{now.isoformat(sep=' ')}' AS TIMESTAMP)"
    run = f"'{run_id}'"
    scope = f"SELECT check_id FROM {CHECKS_STAGE.name}"
    with lake.transaction():
        if lake.dialect == "postgres":
            # Hash the outer join rather than sort millions of texts by their collation.
            lake.execute("SET LOCAL enable_mergejoin = off")
            lake.execute("SET LOCAL work_mem = '256MB'")
        lake.execute(f"DROP TABLE IF EXISTS {DELTA}")
        lake.execute(_delta_sql(lake.dialect, stamp, scope))
        kinds = _kinds(lake)
        if _duplicated(lake, scope, staged, kinds):
            stage.deduplicate()
            lake.execute(f"DROP TABLE {DELTA}")
            lake.execute(_delta_sql(lake.dialect, stamp, scope))
            kinds = _kinds(lake)
        for statement in _apply_sql(lake.dialect, stamp, run, scope, kinds):
            lake.execute(statement)
        rows = lake.query(
            f"SELECT lifecycle, count(*) AS n FROM {FINDINGS.name} "
            f"WHERE last_run_id = {run} AND lifecycle IS NOT NULL GROUP BY lifecycle"
        )
        lake.execute(f"DROP TABLE {DELTA}")
    if lake.dialect == "postgres":
        lake.execute(f"ANALYZE {FINDINGS.name}")  # the planner's estimates for the next run
    counts = {NEW: 0, OPEN: 0, RESOLVED: 0}
    counts.update({row["lifecycle"]: int(row["n"]) for row in rows})
    return counts
