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
When the lake holds no finding of the run's checks yet (a first assessment), every staged
finding is new: they are inserted straight from the stage, without the join.

What a check shares with its findings (title, severity, remediation ...) goes once per check to
`cwpp_check_meta` and stays NULL on the rows (`findings.tables`); a gone finding keeps the
metadata it was last judged with, copied onto its row when its check's metadata changes.
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
from opencwpp.findings.tables import (
    CHECK_META,
    FINDING_STATE,
    FINDINGS,
    GONE_REASON,
    HISTORY,
    META_COLUMNS,
    NEW,
    OPEN,
    RESOLVED,
)
from opencwpp.lake.lake import Lake

DELTA = "cwpp_stage_delta"
_RUN_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")
# A finding row's own columns: every column but the check's metadata (NULL on the row).
_ROW_COLUMNS = ", ".join(f'"{c}"' for c in FINDING_STATE.column_names if c not in META_COLUMNS)


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
        f"FROM {FINDING_STATE.name} WHERE check_id IN ({scope})"
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


def _meta_sql(dialect: str, scope: str, gone: str, kinds: dict[str, int]) -> list[str]:
    """The run's checks' metadata into `cwpp_check_meta`, kept by the gone findings."""
    target, meta = FINDING_STATE.name, CHECK_META.name
    differs = " OR ".join(
        _json_differs(f"m.{c}", f"c.{c}", dialect)
        if c in ("compliance", "mitre_attack")
        else f"m.{c} IS DISTINCT FROM c.{c}"
        for c in META_COLUMNS
    )
    columns = ", ".join(("check_id", *META_COLUMNS))
    # A gone finding is not judged again: it keeps the metadata it was judged with.
    keep = (
        f"UPDATE {target} SET {', '.join(f'{c} = o.{c}' for c in META_COLUMNS)} "
        f"FROM (SELECT m.* FROM {meta} AS m JOIN {CHECKS_STAGE.name} AS c "
        f"ON c.check_id = m.check_id WHERE {differs}) AS o "
        f"WHERE {target}.check_id = o.check_id AND {target}.title IS NULL "
        f"AND {target}.finding_id IN ({gone})"
    )
    return [
        *([keep] if kinds["gone"] else []),
        f"DELETE FROM {meta} WHERE check_id IN ({scope})",
        f"INSERT INTO {meta} ({columns}) SELECT {columns} FROM {CHECKS_STAGE.name}",
    ]


def _apply_sql(dialect: str, now: str, run: str, scope: str, kinds: dict[str, int]) -> list[str]:
    target = FINDING_STATE.name
    gone = f"SELECT finding_id FROM {DELTA} WHERE kind = 'gone'"
    # Rows carrying metadata of their own (saved as `Finding` objects, or a lake from before
    # `cwpp_check_meta`) take their check's, as every finding judged now does.
    own_meta = " OR ".join(f"{target}.{c} IS NOT NULL" for c in META_COLUMNS)
    unset = ", ".join(f"{c} = NULL" for c in META_COLUMNS)
    new_rows = (
        "d.finding_id, d.check_id, d.status, d.reason, d.lifecycle, d.resource_uid, "
        f"d.account_id, d.region, d.resource_name, d.resource_tags, "
        f"{evidence_sql(dialect, 'd.detail')}, d.first_seen, {now}, d.resolved_at, {run}"
    )
    if dialect == "postgres":
        # PostgreSQL writes a whole new row version per UPDATE: one pass sets last_seen and
        # drops any metadata of the row's own (a pass is dear, more columns in it are not).
        seen = (
            f"UPDATE {target} SET last_seen = {now}, last_run_id = {run}, {unset} "
            f"WHERE check_id IN ({scope}) AND finding_id NOT IN ({gone})"
        )
        metadata = []
    else:
        # DuckDB updates two narrow columns in place; the metadata ones are NULL, a cheap scan.
        seen = (
            f"UPDATE {target} SET last_seen = {now}, last_run_id = {run} "
            f"WHERE check_id IN ({scope}) AND finding_id NOT IN ({gone})"
        )
        metadata = [
            f"UPDATE {target} SET {unset} WHERE check_id IN ({scope}) "
            f"AND last_run_id = {run} AND ({own_meta}) AND finding_id NOT IN ({gone})"
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
        f"INSERT INTO {target} ({_ROW_COLUMNS}) SELECT {new_rows} FROM {DELTA} AS d "
        "WHERE d.kind = 'new'"
    )
    # (A statement with nothing to do still scans: in a steady state most have nothing.)
    return [
        # Every finding judged now was last seen now, with its check's current metadata.
        seen,
        *metadata,
        *_meta_sql(dialect, scope, gone, kinds),
        *([changed] if kinds["seen"] else []),
        *([gone_now] if kinds["gone"] else []),
        *([insert_new] if kinds["new"] else []),
        _history_sql(now, run, scope),
    ]


def _kinds(lake: Lake) -> dict[str, int]:
    """How many delta rows are new, seen (and changed) and gone."""
    rows = lake.query(f"SELECT kind, count(*) AS n FROM {DELTA} GROUP BY kind")
    return {"new": 0, "seen": 0, "gone": 0} | {str(r["kind"]): int(r["n"]) for r in rows}


def _stored(lake: Lake, scope: str) -> int:
    """How many findings of the run's checks the lake holds."""
    rows = lake.query(f"SELECT count(*) AS n FROM {FINDING_STATE.name} WHERE check_id IN ({scope})")
    return int(rows[0]["n"])


def _twice_sql(dialect: str, table: str, key: str, where: str = "TRUE") -> str:
    """SQL counting the values of `key` (columns) that occur twice among `table`'s rows.

    On DuckDB a 64-bit hash of the key groups first, much faster than the texts; its string
    hash collides now and then, so the few hashes seen twice are checked on the key itself.
    """
    if dialect != "duckdb":
        return (
            f"SELECT count(*) AS n FROM (SELECT {key} FROM {table} WHERE {where} "
            f"GROUP BY {key} HAVING count(*) > 1) AS d"
        )
    hashed = f"hash({key})"
    twice = (
        f"SELECT h FROM (SELECT {hashed} AS h FROM {table} WHERE {where} GROUP BY h "
        "HAVING count(*) > 1) AS t"
    )
    return (
        f"SELECT count(*) AS n FROM (SELECT {key} FROM {table} WHERE {where} "
        f"AND {hashed} IN ({twice}) GROUP BY {key} HAVING count(*) > 1) AS d"
    )


def _duplicated(lake: Lake, stored: int, staged: int, kinds: dict[str, int]) -> bool:
    """Whether the staged findings hold a finding twice, read off the delta at no extra pass.

    Every staged row that is not new matched exactly one stored finding, and every stored
    finding that is not gone matched at least one staged row: the two counts differ exactly
    when a known finding was staged twice. New ones are checked among themselves.
    """
    rows = lake.query(_twice_sql(lake.dialect, DELTA, "finding_id", "kind = 'new'"))
    new, gone = kinds["new"], kinds["gone"]
    return bool(rows[0]["n"]) or staged - new != stored - gone


def _staged_twice(lake: Lake) -> bool:
    """Whether a finding was staged twice (a check bug), by what its id is a hash of."""
    key = "check_id, account_id, region, resource_uid"
    return bool(lake.query(_twice_sql(lake.dialect, STAGED, key))[0]["n"])


def _first_sql(dialect: str, now: str, run: str) -> str:
    """Inserts every staged finding as new: the run's checks have no stored finding yet.

    What the delta would compute for a finding it cannot match, without the outer join and
    the table in between (a first assessment stores millions of new findings).
    """
    fid = finding_id_sql(dialect, "s.check_id", "s.account_id", "s.region", "s.resource_uid")
    return (
        f"INSERT INTO {FINDING_STATE.name} ({_ROW_COLUMNS}) SELECT {fid}, s.check_id, s.status, "
        f"COALESCE(s.status_reason, s.detail), CASE WHEN s.status = 'FAIL' THEN '{NEW}' END, "
        "s.resource_uid, s.account_id, s.region, s.resource_name, s.resource_tags, "
        f"{evidence_sql(dialect, 's.detail')}, {now}, {now}, NULL, {run} FROM {STAGED} AS s"
    )


def _history_sql(now: str, run: str, scope: str) -> str:
    history = "finding_id, check_id, status, lifecycle, severity"
    return (
        f"INSERT INTO {HISTORY.name} (run_id, seen_at, {history}) "
        f"SELECT {run}, {now}, {history} FROM {FINDINGS.name} WHERE check_id IN ({scope})"
    )


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
        stored = _stored(lake, scope)
        if stored == 0:  # a first assessment (of these checks): every finding is new
            if _staged_twice(lake):
                stage.deduplicate()
            lake.execute(_first_sql(lake.dialect, stamp, run))
            statements = [
                *_meta_sql(lake.dialect, scope, "", {"gone": 0}),
                _history_sql(stamp, run, scope),
            ]
        else:
            lake.execute(_delta_sql(lake.dialect, stamp, scope))
            kinds = _kinds(lake)
            if _duplicated(lake, stored, staged, kinds):
                stage.deduplicate()
                lake.execute(f"DROP TABLE {DELTA}")
                lake.execute(_delta_sql(lake.dialect, stamp, scope))
                kinds = _kinds(lake)
            statements = _apply_sql(lake.dialect, stamp, run, scope, kinds)
        for statement in statements:
            lake.execute(statement)
        rows = lake.query(
            f"SELECT lifecycle, count(*) AS n FROM {FINDING_STATE.name} "
            f"WHERE last_run_id = {run} AND lifecycle IS NOT NULL GROUP BY lifecycle"
        )
        lake.execute(f"DROP TABLE IF EXISTS {DELTA}")
    if lake.dialect == "postgres":
        lake.execute(f"ANALYZE {FINDING_STATE.name}")  # the planner's estimates for the next run
    counts = {NEW: 0, OPEN: 0, RESOLVED: 0}
    counts.update({row["lifecycle"]: int(row["n"]) for row in rows})
    return counts
