"""What each page shows, as plain data: the pages render it, the JSON API returns it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from opencwpp.core.models import Pillar, Severity
from opencwpp.lake.lake import Lake
from opencwpp.report.alert_events import load_events
from opencwpp.report.compliance import score_rows
from opencwpp.report.history import latest_diff, list_runs, trend, trend_by
from opencwpp.report.model import PILLAR_LABELS, alert_event_ids
from opencwpp.web import queries
from opencwpp.web.access import resource_access
from opencwpp.web.escalation import escalation_paths
from opencwpp.web.inventory import inventory_rows
from opencwpp.web.queries import FindingQuery

SEVERITIES = [s.value for s in sorted(Severity, key=lambda s: -s.rank)]
IAM_PREFIX = "iam"


def overview(lake: Lake) -> dict[str, Any]:
    """Failing counts, scores and trends per pillar and account; totals, trend and latest diff.

    A score is passing / assessed (PASS or FAIL) findings; a trend lists the failing findings of
    each of the last assess runs, oldest first.
    """
    by_pillar = queries.matrix(lake, "pillar")
    by_account = queries.matrix(lake, "account_id")
    scores = {by: queries.scores(lake, by) for by in ("pillar", "account_id")}
    trends = {by: trend_by(lake, by) for by in ("pillar", "account_id")}
    diff = latest_diff(lake)
    empty_score = {"passing": 0, "assessed": 0, "score": None}
    accounts = set(by_account) | set(scores["account_id"])
    return {
        "severities": SEVERITIES,
        "pillars": [
            {
                "pillar": p.value,
                "label": PILLAR_LABELS[p],
                "failing": by_pillar.get(p.value, {}),
                **scores["pillar"].get(p.value, empty_score),
                "trend": trends["pillar"].get(p.value, []),
            }
            for p in Pillar
        ],
        "accounts": [
            {
                "account": a,
                "failing": by_account.get(a, {}),
                **scores["account_id"].get(a, empty_score),
                "trend": trends["account_id"].get(a, []),
            }
            for a in sorted(accounts, key=lambda a: (-sum(by_account.get(a, {}).values()), a))
        ],
        "statuses": queries.status_totals(lake),
        "trend": [
            {"run_id": p.run_id, "at": p.at, "failing": p.failing, "total": p.total}
            for p in trend(lake)
        ],
        "diff": None
        if diff is None
        else {
            "run_a": diff.run_a,
            "run_b": diff.run_b,
            "new": [asdict(c) for c in diff.new[:20]],
            "counts": {
                "new": len(diff.new),
                "resolved": len(diff.resolved),
                "changed": len(diff.changed),
            },
        },
        "runs": [asdict(r) for r in list_runs(lake, None, limit=10)],
    }


def findings(lake: Lake, query: FindingQuery, page: int, group: str = "") -> dict[str, Any]:
    """One page of matching findings, or their groups when `group` is set."""
    query = query.validated()
    total = queries.count_findings(lake, query)
    data: dict[str, Any] = {
        "total": total,
        "page": page,
        "page_size": queries.PAGE_SIZE,
        "pages": max(1, -(-total // queries.PAGE_SIZE)),
        "group": group,
    }
    if group:
        data["groups"] = queries.groups(lake, query, group)
        data["findings"] = []
    else:
        data["findings"] = queries.find(lake, query, page)
    return data


def resource(lake: Lake, uid: str) -> dict[str, Any]:
    """Everything known about one resource, its alerts (as an identity) with their events included.

    Inventory rows, findings, their history, who can access it.
    """
    found = queries.find(lake, FindingQuery(resource=uid), 1, size=1000)
    history = queries.finding_history(lake, [f["finding_id"] for f in found])
    alerts = [dict(f) for f in found if f["pillar"] == Pillar.THREAT.value]
    _attach_events(lake, alerts)
    return {
        "uid": uid,
        "inventory": [asdict(r) for r in inventory_rows(lake, uid)],
        "findings": found,
        "alerts": alerts,
        "history": history,
        "access": resource_access(lake, uid),
    }


def compliance(lake: Lake) -> list[dict[str, Any]]:
    """Framework → requirement → checks, with scores."""
    return [
        {
            "framework": fw.framework,
            "score": fw.score,
            "passing": fw.count("PASS"),
            "failing": fw.count("FAIL"),
            "not_assessed": fw.count("NOT_ASSESSED"),
            "requirements": [
                {
                    "requirement": r.requirement,
                    "state": r.state,
                    "checks": sorted(r.checks),
                    "failing": r.failing,
                    "passing": r.passing,
                }
                for r in fw.requirements
            ],
        }
        for fw in score_rows(queries.compliance_rows(lake))
    ]


def _utc_naive(value: object) -> datetime | None:
    """A timestamp (datetime or ISO text) as naive UTC, so stored and evidence times compare."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _activity(row: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """When an alert's activity began and last happened: its events' times, else the run's."""
    evidence = row.get("evidence") or {}
    first = _utc_naive(evidence.get("first_event_time")) or _utc_naive(row.get("first_seen"))
    last = _utc_naive(evidence.get("last_event_time")) or _utc_naive(row.get("last_seen"))
    return first, last


def _attach_events(lake: Lake, rows: list[dict[str, Any]]) -> None:
    """Adds `events`, `missing_event_ids` and the activity times to each alert row."""
    wanted = {r["finding_id"]: ids for r in rows if (ids := alert_event_ids(r["evidence"]))}
    events = load_events(lake, wanted)
    for row in rows:
        found = events.get(row["finding_id"], [])
        stored = {e.event_id for e in found}
        row["events"] = [asdict(e) for e in found]
        row["missing_event_ids"] = [i for i in wanted.get(row["finding_id"], []) if i not in stored]
        row["activity_first"], row["activity_last"] = _activity(row)


def threats(lake: Lake, limit: int = 500) -> list[dict[str, Any]]:
    """Threat-detection findings, newest activity first, each with the stored events behind it.

    Activity times are the events' (from the alert's evidence): `first_seen`/`last_seen` are when
    the detection runs saw the alert. `events` lists the alert's events found in the lake;
    `missing_event_ids` the ones its evidence names that are not stored (any more).
    """
    rows = queries.find(lake, FindingQuery(pillar=Pillar.THREAT.value), 1, size=limit)
    _attach_events(lake, rows)
    rows.sort(key=lambda r: (r["activity_last"] is not None, r["activity_last"]), reverse=True)
    return rows


def identity(lake: Lake) -> dict[str, Any]:
    """Failing IAM checks grouped by principal and check, and the escalation paths to admin."""
    query = FindingQuery(pillar=Pillar.ACCESS.value, check_prefix=IAM_PREFIX, status="FAIL")
    paths, total = escalation_paths(lake)
    return {
        "principals": queries.groups(lake, query, "resource"),
        "checks": queries.groups(lake, query, "check"),
        "paths": paths,
        "paths_total": total,
    }
