"""Scoring a tool's findings against the ground truth: recall, false positives, disagreements.

A planted defect is found when the tool FAILs a check that its mapping file ties to the
defect's kind, on that resource (or, for region and account settings, in that region or
account). A near-miss is a false positive when the same happens on it. Checks a mapping does not
list are ignored: they judge things the estate does not plant.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from bench.peers.findings import ToolFinding
from bench.peers.truth import PILLARS, Entry, GroundTruth, Resource

MAPPINGS = Path(__file__).parent / "mappings"


@dataclass(frozen=True, slots=True)
class Mapping:
    """One tool's check ids (exact or glob patterns) and the defect kinds each one judges."""

    tool: str
    version: str
    checks: dict[str, tuple[str, ...]]

    def kinds_of(self, check: str) -> set[str]:
        """The kinds a check judges (exact id first, then every matching pattern)."""
        if check in self.checks:
            return set(self.checks[check])
        out: set[str] = set()
        for pattern, kinds in self.checks.items():
            if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(check, pattern):
                out.update(kinds)
        return out

    @classmethod
    def load(cls, tool: str, directory: Path = MAPPINGS) -> Mapping:
        """Reads `mappings/<tool>.yaml`."""
        data = yaml.safe_load((directory / f"{tool}.yaml").read_text(encoding="utf-8"))
        checks = {str(k): tuple(v or ()) for k, v in (data.get("checks") or {}).items()}
        return cls(str(data["tool"]), str(data.get("version", "")), checks)


def matches(finding: ToolFinding, resource: Resource, account: str) -> bool:
    """Whether `finding` is about `resource` (by identifier, or by region/account scope)."""
    if finding.account and finding.account != account:
        return False
    if resource.scope == "account":
        return True
    if resource.scope == "region":
        return finding.region == resource.region
    return bool(finding.identifiers & resource.identifiers())


@dataclass(slots=True)
class Verdict:
    """What one tool said about one ground-truth entry: flagged or not, and by which checks."""

    entry: Entry
    flagged: bool
    checks: tuple[str, ...]


@dataclass(slots=True)
class Score:
    """One tool's verdicts on every defect and near-miss of an estate."""

    tool: str
    defects: list[Verdict] = field(default_factory=list)
    near_misses: list[Verdict] = field(default_factory=list)

    def per_pillar(self) -> dict[str, dict[str, Any]]:
        """Recall and false positives per pillar, and overall (key "all")."""
        out: dict[str, dict[str, Any]] = {}
        for pillar in (*PILLARS, "all"):
            found = [v for v in self.defects if pillar in ("all", v.entry.pillar)]
            near = [v for v in self.near_misses if pillar in ("all", v.entry.pillar)]
            hits = sum(v.flagged for v in found)
            fps = sum(v.flagged for v in near)
            out[pillar] = {
                "defects": len(found),
                "found": hits,
                "recall": hits / len(found) if found else None,
                "near_misses": len(near),
                "false_positives": fps,
            }
        return out


def score(tool: str, truth: GroundTruth, findings: list[ToolFinding], mapping: Mapping) -> Score:
    """Judges every ground-truth entry by the tool's FAIL findings."""
    by_kind: dict[str, list[ToolFinding]] = defaultdict(list)
    for f in findings:
        if f.failed:
            for kind in mapping.kinds_of(f.check):
                by_kind[kind].append(f)

    def verdict(entry: Entry) -> Verdict:
        hits = [
            f for f in by_kind.get(entry.kind, []) if matches(f, entry.resource, truth.account_id)
        ]
        return Verdict(entry, bool(hits), tuple(sorted({f.check for f in hits})))

    return Score(
        tool,
        [verdict(e) for e in truth.defects],
        [verdict(e) for e in truth.near_misses],
    )


@dataclass(frozen=True, slots=True)
class Disagreement:
    """An entry some tools flag and others do not."""

    kind: str
    pillar: str
    resource: str
    planted: bool  # True: a defect (flagging is right); False: a near-miss (flagging is wrong)
    flagged_by: tuple[str, ...]
    passed_by: tuple[str, ...]
    right: tuple[str, ...]


def disagreements(scores: list[Score]) -> list[Disagreement]:
    """Every defect or near-miss on which the tools do not all agree, with who is right."""
    out: list[Disagreement] = []
    if not scores:
        return out
    for planted, lists in (
        (True, [s.defects for s in scores]),
        (False, [s.near_misses for s in scores]),
    ):
        for verdicts in zip(*lists, strict=True):
            flagged = tuple(s.tool for s, v in zip(scores, verdicts, strict=True) if v.flagged)
            passed = tuple(s.tool for s, v in zip(scores, verdicts, strict=True) if not v.flagged)
            if flagged and passed:
                e = verdicts[0].entry
                out.append(
                    Disagreement(
                        e.kind,
                        e.pillar,
                        e.resource.name or e.resource.uid,
                        planted,
                        flagged,
                        passed,
                        flagged if planted else passed,
                    )
                )
    return out
