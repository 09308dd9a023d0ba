"""What changed between two runs: new, resolved and changed findings (pure, no lake access).

A finding is NEW when it fails in the later run and did not fail (or did not exist) in the
earlier one; RESOLVED when it failed before and passes now; CHANGED when it is in both runs and
its severity or status moved otherwise (FAIL to MUTED, PASS to NOT_ASSESSED, high to critical).
A finding absent from the later run is out of that run's scope and is not reported.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

FAIL, PASS = "FAIL", "PASS"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One finding as one run saw it (a row of `cwpp_finding_history`)."""

    finding_id: str
    check_id: str
    status: str
    severity: str


@dataclass(frozen=True, slots=True)
class Change:
    """One finding that differs between the runs, with what we know of its resource."""

    finding_id: str
    check_id: str
    before_status: str | None
    after_status: str
    before_severity: str | None
    after_severity: str
    title: str = ""
    resource: str = ""


@dataclass(frozen=True, slots=True)
class RunDiff:
    """The differences from `run_a` (earlier) to `run_b` (later)."""

    run_a: str
    run_b: str
    new: list[Change] = field(default_factory=list)
    resolved: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether nothing changed."""
        return not (self.new or self.resolved or self.changed)

    def only(self, finding_ids: Collection[str]) -> RunDiff:
        """The same diff restricted to these findings (a filtered report)."""
        keep = set(finding_ids)
        return replace(
            self,
            new=[c for c in self.new if c.finding_id in keep],
            resolved=[c for c in self.resolved if c.finding_id in keep],
            changed=[c for c in self.changed if c.finding_id in keep],
        )


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """Failing findings per severity in one run, for the findings-over-time chart."""

    run_id: str
    at: datetime
    failing: dict[str, int]

    @property
    def total(self) -> int:
        """All failing findings of the run."""
        return sum(self.failing.values())


_SEVERITY_RANK = {"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _order(change: Change) -> tuple[int, str, str]:
    return (-_SEVERITY_RANK.get(change.after_severity, 0), change.check_id, change.resource)


def diff_runs(
    before: Mapping[str, HistoryEntry],
    after: Mapping[str, HistoryEntry],
    run_a: str,
    run_b: str,
    described: Mapping[str, tuple[str, str]] | None = None,
) -> RunDiff:
    """Compares two runs' history; `described` maps finding id to (title, resource) for display."""
    described = described or {}
    new, resolved, changed = [], [], []
    for fid, b in after.items():
        a = before.get(fid)
        title, resource = described.get(fid, ("", ""))
        change = Change(
            fid,
            b.check_id,
            a.status if a else None,
            b.status,
            a.severity if a else None,
            b.severity,
            title,
            resource,
        )
        if b.status == FAIL and (a is None or a.status != FAIL):
            new.append(change)
        elif a is None:
            continue
        elif a.status == FAIL and b.status == PASS:
            resolved.append(change)
        elif a.status != b.status or a.severity != b.severity:
            changed.append(change)
    for items in (new, resolved, changed):
        items.sort(key=_order)
    return RunDiff(run_a, run_b, new, resolved, changed)
