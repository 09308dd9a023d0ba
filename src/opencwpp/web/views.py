"""What each page shows, as plain data: the pages render it, the JSON API returns it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from opencwpp.core.models import Pillar, Severity
from opencwpp.lake.lake import Lake
from opencwpp.report.compliance import score_rows
from opencwpp.report.history import latest_diff, list_runs, trend
from opencwpp.report.model import PILLAR_LABELS
from opencwpp.web import queries
from opencwpp.web.access import resource_access
from opencwpp.web.escalation import escalation_paths
from opencwpp.web.inventory import inventory_rows
from opencwpp.web.queries import FindingQuery

SEVERITIES = [s.value for s in sorted(Severity, key=lambda s: -s.rank)]
IAM_PREFIX = "iam"


def overview(lake: Lake) -> dict[str, Any]:
    """Failing counts per pillar, severity and account, status totals, trend and latest diff."""
    by_pillar = queries.matrix(lake, "pillar")
    by_account = queries.matrix(lake, "account_id")
    diff = latest_diff(lake)
    return {
        "severities": SEVERITIES,
        "pillars": [
            {"pillar": p.value, "label": PILLAR_LABELS[p], "failing": by_pillar.get(p.value, {})}
            for p in Pillar
        ],
        "accounts": [
            {"account": a, "failing": counts}
            for a, counts in sorted(by_account.items(), key=lambda kv: -sum(kv[1].values()))
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
    """Everything known about one resource: inventory, findings, history, who can access it."""
    found = queries.find(lake, FindingQuery(resource=uid), 1, size=1000)
    history = queries.finding_history(lake, [f["finding_id"] for f in found])
    return {
        "uid": uid,
        "inventory": [asdict(r) for r in inventory_rows(lake, uid)],
        "findings": found,
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


def threats(lake: Lake, limit: int = 500) -> list[dict[str, Any]]:
    """Threat-detection findings, newest activity first (the alert timeline)."""
    rows = queries.find(lake, FindingQuery(pillar=Pillar.THREAT.value), 1, size=limit)
    rows.sort(key=lambda r: (r["last_seen"] is not None, r["last_seen"]), reverse=True)
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
