"""Compliance scores per framework, from the `compliance` references on findings (pure).

A requirement fails when any finding mapped to it fails, passes when none fails and at least
one passes, and is not assessed otherwise (muted findings count as neither). A framework's
score is passing / (passing + failing) requirements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from opencwpp.core.models import Finding, Status

PASSING, FAILING, NOT_ASSESSED = "PASS", "FAIL", "NOT_ASSESSED"


@dataclass(slots=True)
class RequirementScore:
    """One requirement of a framework: its state, its checks and failing resource count."""

    requirement: str
    checks: set[str] = field(default_factory=set)
    failing: int = 0
    passing: int = 0

    @property
    def state(self) -> str:
        """PASS, FAIL or NOT_ASSESSED."""
        if self.failing:
            return FAILING
        return PASSING if self.passing else NOT_ASSESSED


@dataclass(slots=True)
class FrameworkScore:
    """A framework's requirements and its score."""

    framework: str
    requirements: list[RequirementScore]

    def count(self, state: str) -> int:
        """How many requirements are in `state`."""
        return sum(1 for r in self.requirements if r.state == state)

    @property
    def score(self) -> float | None:
        """Passing share of the assessed requirements (0..1), None when none was assessed."""
        passing, failing = self.count(PASSING), self.count(FAILING)
        return None if passing + failing == 0 else passing / (passing + failing)


def _natural(value: str) -> tuple[tuple[int, str], ...]:
    parts = value.replace("-", ".").split(".")
    return tuple((int(p), "") if p.isdigit() else (1 << 30, p) for p in parts)


def compliance_scores(findings: Iterable[Finding]) -> list[FrameworkScore]:
    """Scores of every framework referenced by the findings, sorted by framework name."""
    return score_rows((f.check_id, f.status.value, f.compliance) for f in findings)


def score_rows(rows: Iterable[tuple[str, str, Mapping[str, list[str]]]]) -> list[FrameworkScore]:
    """Scores from (check id, status, compliance references) rows, as the lake stores them."""
    frameworks: dict[str, dict[str, RequirementScore]] = {}
    for check_id, status, compliance in rows:
        for fw, reqs in compliance.items():
            by_req = frameworks.setdefault(fw, {})
            for req in reqs:
                score = by_req.setdefault(req, RequirementScore(req))
                score.checks.add(check_id)
                if status == Status.FAIL.value:
                    score.failing += 1
                elif status == Status.PASS.value:
                    score.passing += 1
    return [
        FrameworkScore(fw, sorted(reqs.values(), key=lambda r: _natural(r.requirement)))
        for fw, reqs in sorted(frameworks.items())
    ]
