"""Severity and priority.

Severity from CVSS (v3 and v4 vectors, parsed with `cvss`) or the database's own rating,
and the priority of a finding with the reasons behind it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from opencwpp.core.models import Severity

EPSS_HIGH = 0.1  # 10 %: FIRST's "likely" band; a small share of CVEs score above it
_WORDS = {
    "critical": Severity.CRITICAL,
    "important": Severity.HIGH,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "negligible": Severity.LOW,
}
_SUMMARY_RATING = re.compile(r"^(Critical|Important|Moderate|Low):", re.IGNORECASE)


def severity_of_score(score: float) -> Severity:
    """CVSS qualitative rating of a base score."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFORMATIONAL


def parse_cvss(entry: dict[str, Any]) -> dict[str, Any] | None:
    """{type, vector, score} of an OSV severity entry, None when it is not a valid vector."""
    kind, vector = entry.get("type"), entry.get("score")
    if not isinstance(vector, str):
        return None
    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            return {"type": "CVSS_V4", "vector": vector, "score": float(CVSS4(vector).base_score)}
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            return {"type": "CVSS_V3", "vector": vector, "score": float(CVSS3(vector).scores()[0])}
        if kind == "CVSS_V2":
            return {"type": "CVSS_V2", "vector": vector, "score": float(CVSS2(vector).scores()[0])}
    except CVSSError:
        return None
    return None


def advisory_severity(
    severity: list[dict[str, Any]], database_specific: dict[str, Any], summary: str
) -> tuple[Severity | None, list[dict[str, Any]], str]:
    """(severity, parsed CVSS entries, where it came from); CVSS v4 over v3 over v2."""
    scores = [s for s in (parse_cvss(e) for e in severity if isinstance(e, dict)) if s]
    for kind in ("CVSS_V4", "CVSS_V3", "CVSS_V2"):
        best = [s for s in scores if s["type"] == kind]
        if best:
            top = max(best, key=lambda s: float(s["score"]))
            return severity_of_score(float(top["score"])), scores, f"{kind} {top['score']}"
    word = str(database_specific.get("severity") or "").lower()
    if word in _WORDS:
        return _WORDS[word], scores, f"database rating {word}"
    if m := _SUMMARY_RATING.match(summary or ""):
        return _WORDS[m.group(1).lower()], scores, f"advisory rating {m.group(1)}"
    return None, scores, ""


@dataclass(frozen=True, slots=True)
class WorkloadContext:
    """What the lake knows of the workload running the package (IAM and exposure analyses).

    Each entry is one named reason, already phrased for a reader.
    """

    exposure: tuple[str, ...] = ()
    admin_roles: tuple[str, ...] = ()
    escalating_roles: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.exposure or self.admin_roles or self.escalating_roles)


NO_CONTEXT = WorkloadContext()
# Rank points: severity sets the base, the rest says what makes this one more urgent than its
# peers. An exposed workload with an admin role is the attacker's shortest way to the account.
_POINTS_SEVERITY = 10  # per severity step: informational 0 .. critical 40
_POINTS_KEV = 25
_POINTS_EPSS_HIGH = 10
_POINTS_EXPOSED = 15
_POINTS_ADMIN = 12
_POINTS_ESCALATION = 8
_POINTS_FIX = 2


@dataclass(frozen=True, slots=True)
class Priority:
    """How urgently to act, why, and a 0-100 score that orders findings of the same level."""

    level: Severity
    reasons: tuple[str, ...]
    score: int = 0


def _raise(level: Severity) -> Severity:
    return list(Severity)[min(level.rank + 1, Severity.CRITICAL.rank)]


def prioritise(
    severity: Severity,
    kev: bool,
    epss: float | None,
    fixed: list[str],
    context: WorkloadContext = NO_CONTEXT,
) -> Priority:
    """KEV lifts to critical; a high EPSS to at least high; a fix available is said.

    An internet-exposed workload raises the level one step, and so does a workload whose
    role is (or can become) admin: each is a named reason, and each adds to the score.
    """
    level = severity
    score = severity.rank * _POINTS_SEVERITY
    reasons = [f"severity {severity.value}"]
    if kev:
        level = Severity.CRITICAL
        score += _POINTS_KEV
        reasons.insert(0, "exploited in the wild (CISA KEV)")
    for what in context.exposure:
        reasons.append(f"internet-exposed workload: {what}")
    if context.exposure:
        level, score = _raise(level), score + _POINTS_EXPOSED
    for what in context.admin_roles:
        reasons.append(f"powerful role: {what}")
    for what in context.escalating_roles:
        reasons.append(f"powerful role: {what}")
    if context.admin_roles or context.escalating_roles:
        level = _raise(level)
        score += _POINTS_ADMIN if context.admin_roles else _POINTS_ESCALATION
    if epss is not None:
        if epss >= EPSS_HIGH:
            if level.rank < Severity.HIGH.rank:
                level = Severity.HIGH
            score += _POINTS_EPSS_HIGH
            reasons.append(f"EPSS {epss:.3f}: exploitation likely")
        else:
            score += round(epss * _POINTS_EPSS_HIGH / EPSS_HIGH)
            reasons.append(f"EPSS {epss:.3f}")
    if fixed:
        score += _POINTS_FIX
    reasons.append(f"fix available: {', '.join(fixed)}" if fixed else "no fixed version known")
    return Priority(level, tuple(reasons), min(score, 100))
