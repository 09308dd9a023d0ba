"""RPM version ordering: epoch, then rpmvercmp on version, then on release."""

from __future__ import annotations

import re

from opencwpp.vuln.errors import InvalidVersionError

_SEGMENT = re.compile(r"[0-9]+|[A-Za-z]+")


def rpmvercmp(a: str, b: str) -> int:
    """Rpm's rpmvercmp: alternating numeric/alpha segments, with '~' and '^' rules."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not a[i].isalnum() and a[i] not in "~^":
            i += 1
        while j < len(b) and not b[j].isalnum() and b[j] not in "~^":
            j += 1
        # '~' sorts before anything, the end of the string included.
        at, bt = a[i : i + 1] == "~", b[j : j + 1] == "~"
        if at or bt:
            if not (at and bt):
                return -1 if at else 1
            i, j = i + 1, j + 1
            continue
        # '^' sorts after the end of the string but before anything else.
        ac, bc = a[i : i + 1] == "^", b[j : j + 1] == "^"
        if ac or bc:
            if i >= len(a):
                return -1
            if j >= len(b):
                return 1
            if not (ac and bc):
                return 1 if bc else -1
            i, j = i + 1, j + 1
            continue
        if i >= len(a) or j >= len(b):
            break
        ma, mb = _SEGMENT.match(a, i), _SEGMENT.match(b, j)
        if ma is None or mb is None:  # pragma: no cover - alnum guarantees a match
            break
        sa, sb = ma.group(), mb.group()
        a_num, b_num = sa[0].isdigit(), sb[0].isdigit()
        if a_num != b_num:
            return 1 if a_num else -1
        if a_num:
            na, nb = int(sa), int(sb)
            if na != nb:
                return -1 if na < nb else 1
        elif sa != sb:
            return -1 if sa < sb else 1
        i, j = ma.end(), mb.end()
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def split(text: str) -> tuple[int, str, str]:
    """(epoch, version, release) of `[epoch:]version[-release]`."""
    text = text.strip()
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if not head.isdigit():
            raise InvalidVersionError(f"bad epoch in RPM version: {head!r}")
        epoch = int(head)
    version, _, release = text.partition("-")
    if not version:
        raise InvalidVersionError(f"not an RPM version: {text!r}")
    return epoch, version, release


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as EVR `a` orders before, equal to or after `b`."""
    ea, va, ra = split(a)
    eb, vb, rb = split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    result = rpmvercmp(va, vb)
    if result == 0 and ra and rb:
        result = rpmvercmp(ra, rb)
    return result
