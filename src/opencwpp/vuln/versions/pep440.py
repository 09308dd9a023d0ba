"""PEP 440 ordering (Python), through `packaging`."""

from __future__ import annotations

from functools import lru_cache

from packaging.version import InvalidVersion, Version

from opencwpp.vuln.errors import InvalidVersionError


@lru_cache(maxsize=65536)
def parse(text: str) -> Version:
    """A PEP 440 version; InvalidVersionError when the string is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        raise InvalidVersionError(f"not a PEP 440 version: {text!r}") from None


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` orders before, equal to or after `b`."""
    va, vb = parse(a), parse(b)
    return (va > vb) - (va < vb)
