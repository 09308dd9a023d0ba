"""OSV range evaluation, as the OSV schema specifies it.

Per range: events sorted by version in the ecosystem's ordering (`introduced: "0"` first),
then walked (ties: closing events first): introduced (v >= x) opens, fixed (v >= x)
closes, last_affected (v > x) closes;
`limit` events bound the range from above (v must be below one of them). ECOSYSTEM ranges use
the ecosystem's ordering, SEMVER ranges semver; GIT ranges are commit ranges and match nothing
by version (their entries' explicit `versions` lists do). An affected entry matches when a
range does OR the version is listed (the union).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any

from opencwpp.vuln.errors import InvalidVersionError
from opencwpp.vuln.versions import ORDERINGS, Comparator, comparator_for

# At equal versions, the event closing an earlier interval comes before the one opening the
# next: `fixed: X` then `introduced: X` reads as [a, X) + [X, b), so X is affected.
_KINDS = ("fixed", "last_affected", "introduced", "limit")


@dataclass(frozen=True, slots=True)
class Event:
    """One range event: its kind and version ('0' introduced = below all, '*' limit = above)."""

    kind: str
    version: str


def events_of(rng: dict[str, Any]) -> list[Event]:
    """The events of a range in document order (unknown keys ignored)."""
    out: list[Event] = []
    for raw in rng.get("events", []):
        if isinstance(raw, dict):
            for kind in _KINDS:
                if isinstance(raw.get(kind), str):
                    out.append(Event(kind, raw[kind]))
    return out


def sort_events(events: Sequence[Event], cmp: Comparator) -> list[Event]:
    """Events in version order; raises InvalidVersionError when one cannot be ordered."""

    def order(a: Event, b: Event) -> int:
        if a.kind == "introduced" and a.version == "0":
            return 0 if (b.kind == "introduced" and b.version == "0") else -1
        if b.kind == "introduced" and b.version == "0":
            return 1
        if a.kind == "limit" and a.version == "*":
            return 0 if (b.kind == "limit" and b.version == "*") else 1
        if b.kind == "limit" and b.version == "*":
            return -1
        return cmp(a.version, b.version) or (_KINDS.index(a.kind) - _KINDS.index(b.kind))

    return sorted(events, key=cmp_to_key(order))


def in_events(version: str, events: Sequence[Event], cmp: Comparator) -> bool:
    """Whether `version` is affected by one range's events (sorted here)."""
    ordered = sort_events(events, cmp)
    limits = [e.version for e in ordered if e.kind == "limit"]
    if limits and not any(lim == "*" or cmp(version, lim) < 0 for lim in limits):
        return False
    affected = False
    for event in ordered:
        if event.kind == "introduced":
            if event.version == "0" or cmp(version, event.version) >= 0:
                affected = True
        elif event.kind == "fixed":
            if cmp(version, event.version) >= 0:
                affected = False
        elif event.kind == "last_affected" and cmp(version, event.version) > 0:
            affected = False
    return affected


def range_comparator(rng: dict[str, Any], ecosystem: str) -> Comparator | None:
    """The ordering a range is evaluated in; None for GIT and unknown orderings."""
    kind = rng.get("type")
    if kind == "SEMVER":
        return ORDERINGS["semver"]
    if kind == "ECOSYSTEM":
        return comparator_for(ecosystem)
    return None


@dataclass(frozen=True, slots=True)
class EntryMatch:
    """How an affected entry matched a version, and what fixes it."""

    by_range: bool
    by_list: bool
    fixed: tuple[str, ...]
    unevaluated: tuple[str, ...]  # why ranges could not be evaluated (bad versions)


def listed(version: str, versions: Sequence[str], cmp: Comparator | None) -> bool:
    """Whether `version` is in the explicit list (exactly, or equal in the ordering)."""
    if version in versions:
        return True
    if cmp is None:
        return False
    for candidate in versions:
        try:
            if cmp(version, candidate) == 0:
                return True
        except InvalidVersionError:
            continue
    return False


def match_entry(version: str, entry: dict[str, Any], ecosystem: str) -> EntryMatch | None:
    """The match of one OSV `affected` entry against a version, None when not affected."""
    by_range = False
    fixed: list[str] = []
    problems: list[str] = []
    for rng in entry.get("ranges") or []:
        cmp = range_comparator(rng, ecosystem)
        if cmp is None:
            continue
        events = events_of(rng)
        fixed.extend(e.version for e in events if e.kind == "fixed")
        if by_range:
            continue
        try:
            by_range = in_events(version, events, cmp)
        except InvalidVersionError as err:
            problems.append(str(err))
    by_list = listed(version, entry.get("versions") or [], comparator_for(ecosystem))
    if not (by_range or by_list):
        return None
    return EntryMatch(by_range, by_list, tuple(dict.fromkeys(fixed)), tuple(problems))
