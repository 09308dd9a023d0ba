"""Assessment: run the analyses over the lake, apply suppressions, keep findings with history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from opencwpp.checks import Check, builtin_checks, run_check
from opencwpp.checks.views import names_with_views
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Finding, Severity, Status
from opencwpp.findings import Mutelist, finish_run, save_findings, start_run
from opencwpp.lake.lake import Lake

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class AssessResult:
    """What one assessment found."""

    run_id: str
    findings: list[Finding]
    lifecycle_counts: dict[str, int]
    checks_run: int
    by_status: dict[str, int] = field(default_factory=dict)


def select_checks(check_ids: Iterable[str] = ()) -> list[Check]:
    """The built-in checks, or only those named (unknown ids are a usage error)."""
    registry = builtin_checks()
    wanted = list(check_ids)
    if not wanted:
        return list(registry)
    unknown = [c for c in wanted if c not in registry]
    if unknown:
        raise UsageError(f"unknown check id(s): {', '.join(unknown)} (see `cwpp checks list`)")
    return [registry.get(c) for c in wanted]


def assess(
    lake: Lake,
    checks: list[Check],
    mutelist: Mutelist | None = None,
    progress: Progress | None = None,
) -> AssessResult:
    """Runs the checks, mutes what the mutelist covers, saves the findings as one run."""
    run_id = start_run(lake, "assess")
    present = names_with_views(lake)
    findings: list[Finding] = []
    for index, check in enumerate(checks):
        if progress is not None:
            progress(check.id, index, len(checks))
        findings.extend(run_check(lake, check, present))
    if mutelist is not None:
        findings = mutelist.apply(findings)
    lifecycle = save_findings(lake, run_id, findings, [c.id for c in checks])
    by_status = Counter(f.status.value for f in findings)
    summary = {
        "checks": len(checks),
        "findings": len(findings),
        "by_status": dict(by_status),
        "lifecycle": lifecycle,
        "failing": by_status.get(Status.FAIL.value, 0),
    }
    finish_run(lake, run_id, "ok", summary)
    return AssessResult(run_id, findings, lifecycle, len(checks), dict(by_status))


def failures_at_or_above(findings: Iterable[Finding], threshold: Severity) -> int:
    """How many FAIL findings are at least as severe as `threshold` (for CI gating)."""
    return sum(1 for f in findings if f.status is Status.FAIL and f.severity.rank >= threshold.rank)
