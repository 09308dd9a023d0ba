"""Debian version ordering (`[epoch:]upstream[-revision]`), as dpkg's verrevcmp does it."""

from __future__ import annotations

import re

from opencwpp.vuln.errors import InvalidVersionError

_UPSTREAM = re.compile(r"^[0-9A-Za-z.+~:-]*$")


def _order(ch: str) -> int:
    # '~' sorts before everything, even the end of the part; letters before non-letters.
    if ch == "~":
        return -1
    if ch.isdigit():
        return 0
    if ch.isalpha():
        return ord(ch)
    return ord(ch) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def split(text: str) -> tuple[int, str, str]:
    """(epoch, upstream, revision) of a Debian version string."""
    text = text.strip()
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if not head.isdigit():
            raise InvalidVersionError(f"bad epoch in Debian version: {head!r}")
        epoch = int(head)
    upstream, _, revision = text.rpartition("-") if "-" in text else (text, "", "")
    if not upstream or not upstream[0].isdigit() or not _UPSTREAM.match(upstream):
        raise InvalidVersionError(f"not a Debian version: {text!r}")
    return epoch, upstream, revision


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` orders before, equal to or after `b` (dpkg --compare-versions)."""
    ea, ua, ra = split(a)
    eb, ub, rb = split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    result = _verrevcmp(ua, ub) or _verrevcmp(ra, rb)
    return (result > 0) - (result < 0)
