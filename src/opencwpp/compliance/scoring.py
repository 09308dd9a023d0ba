"""Per-requirement status of a framework from the findings in the lake.

The framework file, not the findings' own `compliance` references, says which checks assess
which requirement, so a framework can be scored from findings stored before it was written.
Counting reuses the report's requirement scores (`report.compliance.score_rows`): a requirement
FAILs when any mapped finding fails, PASSes when none fails and at least one passes, and is
NOT_ASSESSED otherwise; MANUAL requirements are never PASS whatever their checks say.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from opencwpp.compliance.model import Framework, Requirement
from opencwpp.core.models import Status
from opencwpp.lake.lake import Lake
from opencwpp.report.compliance import (
    FAILING,
    NOT_ASSESSED,
    PASSING,
    FrameworkScore,
    RequirementScore,
    score_rows,
)

MANUAL = "MANUAL"
STATES = (PASSING, FAILING, NOT_ASSESSED, MANUAL)

# (check id, finding status) -> number of findings
StatusCounts = dict[tuple[str, str], int]


@dataclass(frozen=True, slots=True)
class RequirementStatus:
    """One requirement's state, its finding counts and why."""

    requirement: Requirement
    state: str
    passing: int = 0
    failing: int = 0
    muted: int = 0
    unassessed_checks: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FrameworkStatus:
    """A framework's requirements with their states, and its score."""

    framework: Framework
    requirements: list[RequirementStatus] = field(default_factory=list)

    def count(self, state: str) -> int:
        """How many requirements are in `state`."""
        return sum(1 for r in self.requirements if r.state == state)

    @property
    def score(self) -> float | None:
        """Passed / assessed automated requirements (0..1); None when none was assessed."""
        assessed = [
            RequirementScore(r.requirement.id, failing=r.failing, passing=r.passing)
            for r in self.requirements
            if r.requirement.automated and r.state in (PASSING, FAILING)
        ]
        return FrameworkScore(self.framework.id, assessed).score


def count_findings(lake: Lake, check_ids: Iterable[str]) -> StatusCounts:
    """Stored findings per (check, status) for these checks; empty when nothing was stored."""
    checks = sorted(set(check_ids))
    if not checks or not lake.table_exists("cwpp_findings"):
        return {}
    marks = ", ".join("?" for _ in checks)
    sql = (
        "SELECT check_id, status, count(*) AS n FROM cwpp_findings "
        f"WHERE check_id IN ({marks}) GROUP BY check_id, status"
    )
    return {(r["check_id"], r["status"]): int(r["n"]) for r in lake.query(sql, checks)}


def _rows(framework: Framework, counts: StatusCounts) -> Iterator[tuple[str, str, Any]]:
    for (check_id, status), n in counts.items():
        mapping = {framework.id: framework.requirements_of(check_id)}
        yield from repeat((check_id, status, mapping), n)


def _muted(req: Requirement, counts: StatusCounts) -> int:
    return sum(counts.get((c, Status.MUTED.value), 0) for c in req.checks)


def _status(
    req: Requirement, score: RequirementScore | None, counts: StatusCounts
) -> RequirementStatus:
    passing, failing = (score.passing, score.failing) if score else (0, 0)
    muted = _muted(req, counts)
    judged = {c for (c, s) in counts if s in (Status.PASS.value, Status.FAIL.value)}
    unassessed = tuple(c for c in req.checks if c not in judged)
    if req.manual:
        detail = "needs a person's judgement"
        if failing:
            detail += f"; {failing} supporting finding(s) fail"
        return RequirementStatus(req, MANUAL, passing, failing, muted, unassessed, detail)
    if not req.checks:
        detail = "no automated check covers it yet"
        return RequirementStatus(req, NOT_ASSESSED, detail=detail)
    state = score.state if score else NOT_ASSESSED
    if state == FAILING:
        detail = f"{failing} failing, {passing} passing finding(s)"
    elif state == PASSING:
        detail = f"all {passing} finding(s) pass"
    else:
        detail = "the mapped checks did not run or judged no resource"
    if muted:
        detail += f", {muted} muted"
    if unassessed and state != NOT_ASSESSED:
        detail += f"; not assessed: {', '.join(unassessed)}"
    return RequirementStatus(req, state, passing, failing, muted, unassessed, detail)


def framework_status(framework: Framework, counts: StatusCounts) -> FrameworkStatus:
    """Each requirement's state from the finding counts of the framework's checks."""
    scored = score_rows(_rows(framework, counts))
    by_req = {s.requirement: s for fw in scored for s in fw.requirements}
    reqs = [_status(r, by_req.get(r.id), counts) for r in framework.requirements]
    return FrameworkStatus(framework, reqs)


def assess_framework(lake: Lake, framework: Framework) -> FrameworkStatus:
    """The framework's status from the findings stored in the lake."""
    return framework_status(framework, count_findings(lake, framework.check_ids))
