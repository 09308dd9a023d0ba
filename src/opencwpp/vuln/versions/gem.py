"""RubyGems version ordering (Gem::Version#<=>)."""

from __future__ import annotations

import re

from opencwpp.vuln.errors import InvalidVersionError

_VALID = re.compile(r"^[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")

Segment = int | str


def _strip_zeros(segments: list[Segment]) -> list[Segment]:
    while segments and segments[-1] == 0:
        segments.pop()
    return segments


def canonical(text: str) -> list[Segment]:
    """Gem::Version#canonical_segments: trailing zeros dropped from release and pre-release."""
    text = text.strip()
    if not _VALID.match(text):
        raise InvalidVersionError(f"not a RubyGems version: {text!r}")
    text = text.replace("-", ".pre.")
    segs: list[Segment] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(text)]
    cut = next((i for i, s in enumerate(segs) if isinstance(s, str)), len(segs))
    return _strip_zeros(segs[:cut]) + _strip_zeros(segs[cut:])


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` orders before, equal to or after `b`."""
    la, lb = canonical(a), canonical(b)
    for i in range(max(len(la), len(lb))):
        x: Segment = la[i] if i < len(la) else 0
        y: Segment = lb[i] if i < len(lb) else 0
        if x == y:
            continue
        if isinstance(x, str) and isinstance(y, int):
            return -1
        if isinstance(x, int) and isinstance(y, str):
            return 1
        return -1 if x < y else 1  # type: ignore[operator]
    return 0
