"""Reading run history from the lake: runs, one run's findings, trends, and run diffs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opencwpp.core.errors import UsageError
from opencwpp.lake.lake import Lake
from opencwpp.report.diff import HistoryEntry, RunDiff, TrendPoint, diff_runs

ASSESS = "assess"
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run of `cwpp_runs`."""

    run_id: str
    kind: str
    started_at: datetime
    status: str


def _has_history(lake: Lake) -> bool:
    names = lake.table_names()
    return "cwpp_runs" in names and "cwpp_finding_history" in names


def list_runs(lake: Lake, kind: str | None = ASSESS, limit: int = 50) -> list[RunInfo]:
    """The most recent runs (of `kind`, or all when None), newest first."""
    if not _has_history(lake):
        return []
    where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
    rows = lake.query(
        "SELECT run_id, kind, started_at, status FROM cwpp_runs "
        f"{where} ORDER BY started_at DESC, run_id DESC LIMIT {int(limit)}",
        params,
    )
    return [RunInfo(r["run_id"], r["kind"], r["started_at"], r["status"] or "") for r in rows]


def run_history(lake: Lake, run_id: str) -> dict[str, HistoryEntry]:
    """Every finding one run recorded, by finding id."""
    rows = lake.query(
        "SELECT finding_id, check_id, status, severity FROM cwpp_finding_history WHERE run_id = ?",
        [run_id],
    )
    return {
        r["finding_id"]: HistoryEntry(r["finding_id"], r["check_id"], r["status"], r["severity"])
        for r in rows
    }


def describe(lake: Lake, finding_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Title and resource (name or uid) of findings, from their current row."""
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(finding_ids), _CHUNK):
        chunk = finding_ids[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = lake.query(
            "SELECT finding_id, title, resource_uid, resource_name FROM cwpp_findings "
            f"WHERE finding_id IN ({marks})",
            chunk,
        )
        for r in rows:
            out[r["finding_id"]] = (r["title"] or "", r["resource_name"] or r["resource_uid"])
    return out


def _known(lake: Lake, run_id: str) -> None:
    if not lake.query("SELECT run_id FROM cwpp_runs WHERE run_id = ?", [run_id]):
        raise UsageError(f"unknown run {run_id!r} (see `cwpp diff --list`)")


def load_diff(lake: Lake, run_a: str | None = None, run_b: str | None = None) -> RunDiff:
    """The diff between two runs; by default the last two assess runs."""
    if not _has_history(lake):
        raise UsageError("no runs in the lake yet: run `cwpp assess` twice to compare runs")
    if run_a is None or run_b is None:
        runs = list_runs(lake, ASSESS, limit=2)
        if run_a is None and run_b is None:
            if len(runs) < 2:
                raise UsageError("fewer than two assess runs in the lake: nothing to compare")
            run_b, run_a = runs[0].run_id, runs[1].run_id
        elif run_b is None:
            if not runs:
                raise UsageError("no assess run in the lake to compare with")
            run_b = runs[0].run_id
    assert run_a is not None and run_b is not None
    for run in (run_a, run_b):
        _known(lake, run)
    before, after = run_history(lake, run_a), run_history(lake, run_b)
    changed = [fid for fid, e in after.items() if before.get(fid) != e]
    return diff_runs(before, after, run_a, run_b, describe(lake, changed))


def latest_diff(lake: Lake) -> RunDiff | None:
    """The diff of the last two assess runs, or None when there are fewer than two."""
    if len(list_runs(lake, ASSESS, limit=2)) < 2:
        return None
    return load_diff(lake)


def trend(lake: Lake, kind: str | None = ASSESS, limit: int = 30) -> list[TrendPoint]:
    """Failing findings per severity for the last `limit` runs of `kind`, oldest first."""
    runs = list_runs(lake, kind, limit)
    if not runs:
        return []
    ids = [r.run_id for r in runs]
    marks = ", ".join("?" for _ in ids)
    rows = lake.query(
        "SELECT run_id, severity, count(*) AS n FROM cwpp_finding_history "
        f"WHERE status = ? AND run_id IN ({marks}) GROUP BY run_id, severity",
        ["FAIL", *ids],
    )
    counts: dict[str, dict[str, int]] = {r.run_id: {} for r in runs}
    for row in rows:
        counts[row["run_id"]][row["severity"]] = int(row["n"])
    return [TrendPoint(r.run_id, r.started_at, counts[r.run_id]) for r in reversed(runs)]


TREND_GROUPS = {"pillar": "f.pillar", "account_id": "f.account_id"}


def trend_by(
    lake: Lake, by: str, kind: str | None = ASSESS, limit: int = 12
) -> dict[str, list[int]]:
    """Failing findings per run for each pillar or account (`by`), over the last runs, oldest first.

    History rows carry no pillar or account, so they are joined to the findings they record.
    """
    if by not in TREND_GROUPS:
        raise UsageError(f"unknown trend grouping {by!r}: use one of {', '.join(TREND_GROUPS)}")
    runs = list(reversed(list_runs(lake, kind, limit)))
    if not runs:
        return {}
    ids = [r.run_id for r in runs]
    marks = ", ".join("?" for _ in ids)
    column = TREND_GROUPS[by]
    rows = lake.query(
        f"SELECT h.run_id, {column} AS key, count(*) AS n FROM cwpp_finding_history h "
        "JOIN cwpp_findings f ON f.finding_id = h.finding_id "
        f"WHERE h.status = ? AND h.run_id IN ({marks}) GROUP BY h.run_id, {column}",
        ["FAIL", *ids],
    )
    position = {run_id: i for i, run_id in enumerate(ids)}
    out: dict[str, list[int]] = {}
    for row in rows:
        series = out.setdefault(row["key"] or "", [0] * len(ids))
        series[position[row["run_id"]]] = int(row["n"])
    return out
