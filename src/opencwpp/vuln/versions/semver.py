"""Semantic Versioning 2.0 precedence (npm, Go, crates.io, NuGet …), leniently parsed.

A leading `v` (Go) is dropped, missing minor/patch count as 0, a fourth numeric part (NuGet) is
compared too; build metadata (`+…`) does not take part in precedence.
"""

from __future__ import annotations

from functools import lru_cache

from opencwpp.vuln.errors import InvalidVersionError

Key = tuple[tuple[int, ...], tuple[tuple[int, int, str], ...] | None]


@lru_cache(maxsize=65536)
def parse(text: str) -> Key:
    """(numeric core, pre-release identifiers or None) of a semver string."""
    raw = text.strip()
    if raw[:1] in ("v", "V"):
        raw = raw[1:]
    raw = raw.split("+", 1)[0]
    core, dash, pre = raw.partition("-")
    parts = core.split(".")
    if not core or not all(p.isdigit() for p in parts) or len(parts) > 4:
        raise InvalidVersionError(f"not a semantic version: {text!r}")
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    while len(nums) > 3 and nums[-1] == 0:
        nums.pop()
    if not dash:
        return tuple(nums), None
    if not pre:
        raise InvalidVersionError(f"empty pre-release in semantic version: {text!r}")
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return tuple(nums), ids


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` has lower, equal or higher precedence than `b`."""
    (ca, pa), (cb, pb) = parse(a), parse(b)
    if ca != cb:
        return -1 if ca < cb else 1
    if pa == pb:
        return 0
    if pa is None:
        return 1
    if pb is None:
        return -1
    # numeric identifiers (kind 0) before alphanumeric (kind 1); a shorter prefix first.
    return -1 if pa < pb else 1
