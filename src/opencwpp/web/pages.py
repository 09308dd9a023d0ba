"""Server-rendered pages: overview, findings, resource, compliance, threats, identity, scan."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from opencwpp.core.models import Pillar, Severity, Status
from opencwpp.lake.lake import Lake
from opencwpp.report.model import PILLAR_LABELS
from opencwpp.report.svg import Bar, trend_chart
from opencwpp.web import views
from opencwpp.web.api import QueryDep
from opencwpp.web.app import TEMPLATES, WebConfig, lake_of
from opencwpp.web.escalation import escalation_graph
from opencwpp.web.queries import FindingQuery

router = APIRouter(include_in_schema=False)
LakeDep = Depends(lake_of)


def _page(request: Request, template: str, active: str, **context: Any) -> HTMLResponse:
    config: WebConfig = request.app.state.config
    base = {
        "active": active,
        "lake": request.app.state.lake_label,
        "severities": views.SEVERITIES,
        "pillars": [(p.value, PILLAR_LABELS[p]) for p in Pillar],
        "statuses": [s.value for s in Status],
        "mute_enabled": config.mutelist is not None,
        "scan_enabled": config.scan_enabled,
    }
    return TEMPLATES.TemplateResponse(request, template, base | context)


@router.get("/assets/report.css")
def report_css() -> Response:
    """The report's stylesheet, shared by the dashboard (badges, cards, charts)."""
    css = (files("opencwpp.report") / "templates" / "report.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css")


def _trend_chart(points: list[dict[str, Any]]) -> Markup | None:
    if len(points) < 2:
        return None
    columns = [
        (
            f"{p['at']:%m-%d %H:%M}",
            [Bar(s.value, p["failing"].get(s.value, 0), f"sev-{s.value}") for s in Severity],
        )
        for p in points[-12:]
    ]
    return trend_chart("Failing findings per assess run", columns)


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, lake: Lake = LakeDep) -> HTMLResponse:
    """Scores and trends per pillar and per account."""
    data = views.overview(lake)
    return _page(
        request, "overview.html.j2", "overview", data=data, chart=_trend_chart(data["trend"])
    )


@router.get("/findings", response_class=HTMLResponse)
def findings_page(
    request: Request,
    query: FindingQuery = QueryDep,
    page: int = Query(1, ge=1),
    group: str = Query("", pattern="^(|check|resource|account)$"),
    lake: Lake = LakeDep,
) -> HTMLResponse:
    """Findings with filters, search, grouping and the mute action."""
    data = views.findings(lake, query, page, group)
    return _page(request, "findings.html.j2", "findings", data=data, query=query)


@router.get("/resource", response_class=HTMLResponse)
def resource_page(
    request: Request, uid: str = Query(..., min_length=1), lake: Lake = LakeDep
) -> HTMLResponse:
    """Everything known about one resource."""
    return _page(request, "resource.html.j2", "findings", data=views.resource(lake, uid))


@router.get("/compliance", response_class=HTMLResponse)
def compliance_page(request: Request, lake: Lake = LakeDep) -> HTMLResponse:
    """Framework → requirement → checks → resources."""
    return _page(request, "compliance.html.j2", "compliance", frameworks=views.compliance(lake))


ALERT_DAYS = 14


def _alerts_chart(alerts: list[dict[str, Any]]) -> Markup | None:
    """Alerts per day of their last activity, by severity: the most recent days with alerts."""
    days: dict[str, dict[str, int]] = {}
    for a in alerts:
        if a["activity_last"] is not None:
            day = days.setdefault(f"{a['activity_last']:%Y-%m-%d}", {})
            day[a["severity"]] = day.get(a["severity"], 0) + 1
    if not days:
        return None
    columns = [
        (day[5:], [Bar(s.value, days[day].get(s.value, 0), f"sev-{s.value}") for s in Severity])
        for day in sorted(days)[-ALERT_DAYS:]
    ]
    return trend_chart("Alerts per day of last activity", columns, unit="alerts")


@router.get("/threats", response_class=HTMLResponse)
def threats_page(request: Request, lake: Lake = LakeDep) -> HTMLResponse:
    """The alert timeline, each alert opening onto the CloudTrail events behind it."""
    alerts = views.threats(lake)
    return _page(request, "threats.html.j2", "threats", alerts=alerts, chart=_alerts_chart(alerts))


@router.get("/identity", response_class=HTMLResponse)
def identity_page(request: Request, lake: Lake = LakeDep) -> HTMLResponse:
    """Escalation paths to admin as a graph, and principals with failing IAM checks."""
    data = views.identity(lake)
    graph = escalation_graph(data["paths"])
    return _page(request, "identity.html.j2", "identity", data=data, graph=graph)


@router.get("/scan", response_class=HTMLResponse)
def scan_page(request: Request) -> HTMLResponse:
    """Start a scan (sync when configured, then assess) and watch its progress."""
    config: WebConfig = request.app.state.config
    status = request.app.state.scanner.status.to_dict()
    return _page(request, "scan.html.j2", "scan", scan=status, syncs=config.aws_scan is not None)
