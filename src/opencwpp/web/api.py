"""The JSON API under /api: the same data as the pages, and the mute action."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from opencwpp.core.errors import UsageError
from opencwpp.lake.lake import Lake
from opencwpp.report.history import list_runs, load_diff
from opencwpp.web import views
from opencwpp.web.app import WebConfig, lake_of
from opencwpp.web.mute import append_rule, new_rule
from opencwpp.web.queries import FindingQuery

router = APIRouter(prefix="/api", tags=["api"])
LakeDep = Depends(lake_of)


def finding_query(
    q: str = "",
    severity: str = "",
    pillar: str = "",
    status: str = "",
    account: str = "",
    region: str = "",
    check: str = "",
    resource: str = "",
) -> FindingQuery:
    """The findings filters from the query string."""
    return FindingQuery(q, severity, pillar, status, account, region, check, resource)


QueryDep = Depends(finding_query)


@router.get("/overview")
def api_overview(lake: Lake = LakeDep) -> Any:
    """Failing counts per pillar, severity and account; trend; the last run diff."""
    return jsonable_encoder(views.overview(lake))


@router.get("/findings")
def api_findings(
    query: FindingQuery = QueryDep,
    page: int = Query(1, ge=1),
    group: str = Query("", pattern="^(|check|resource|account)$"),
    lake: Lake = LakeDep,
) -> Any:
    """Matching findings, one page at a time, or grouped by check, resource or account."""
    return jsonable_encoder(views.findings(lake, query, page, group))


@router.get("/resource")
def api_resource(uid: str = Query(..., min_length=1), lake: Lake = LakeDep) -> Any:
    """One resource: its inventory rows, findings and their history."""
    return jsonable_encoder(views.resource(lake, uid))


@router.get("/compliance")
def api_compliance(lake: Lake = LakeDep) -> Any:
    """Framework scores with requirements and their checks."""
    return jsonable_encoder(views.compliance(lake))


@router.get("/threats")
def api_threats(lake: Lake = LakeDep) -> Any:
    """Threat-detection findings, newest first."""
    return jsonable_encoder(views.threats(lake))


@router.get("/identity")
def api_identity(lake: Lake = LakeDep) -> Any:
    """Failing IAM access-control findings grouped by principal and by check."""
    return jsonable_encoder(views.identity(lake))


@router.get("/runs")
def api_runs(kind: str | None = None, lake: Lake = LakeDep) -> Any:
    """The most recent runs."""
    return jsonable_encoder(list_runs(lake, kind or None))


@router.get("/diff")
def api_diff(run_a: str | None = None, run_b: str | None = None, lake: Lake = LakeDep) -> Any:
    """New, resolved and changed findings between two runs (default: the last two assess runs)."""
    return jsonable_encoder(load_diff(lake, run_a, run_b))


class MuteRequest(BaseModel):
    """A mute rule to add: which findings, who owns the decision, why, and until when."""

    check: str = Field(min_length=1)
    resource: str = "*"
    account: str = "*"
    region: str = "*"
    owner: str = Field(min_length=1)
    reason: str = Field(min_length=3)
    expires: date


@router.post("/mutes", status_code=201)
def api_mute(body: MuteRequest, request: Request) -> Any:
    """Appends a validated mute rule to the mutelist file; it applies from the next assess run."""
    config: WebConfig = request.app.state.config
    if config.mutelist is None:
        raise UsageError("no mutelist file configured: start `cwpp serve --mutelist FILE`")
    rule = new_rule(body.model_dump())
    append_rule(config.mutelist, rule)
    return {"added": rule.model_dump(mode="json"), "mutelist": str(config.mutelist)}
