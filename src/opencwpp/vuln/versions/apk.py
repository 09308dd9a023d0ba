"""Alpine (apk) version ordering, after apk-tools' token walk.

`digits{.digits}[letter]{_suffix[digits]}[-rN]`: pre-release suffixes (_alpha, _beta, _pre,
_rc) order before the plain release, post-release ones (_cvs, _svn, _git, _hg, _p) after it.
"""

from __future__ import annotations

import re

from opencwpp.vuln.errors import InvalidVersionError

DIGIT, LETTER, SUFFIX, SUFFIX_NO, REVISION, END = range(6)
_PRE = ("alpha", "beta", "pre", "rc")
_POST = ("cvs", "svn", "git", "hg", "p")
_DIGITS = re.compile(r"[0-9]+")
_LETTERS = re.compile(r"[a-z]+")


def _suffix_value(name: str, text: str) -> int:
    if name in _PRE:
        return _PRE.index(name) - len(_PRE)
    if name in _POST:
        return _POST.index(name)
    raise InvalidVersionError(f"unknown suffix _{name} in Alpine version {text!r}")


def tokens(text: str) -> list[tuple[int, int]]:
    """The (token type, value) walk of an apk version, ending with END."""
    out: list[tuple[int, int]] = []
    m = _DIGITS.match(text)
    if m is None:
        raise InvalidVersionError(f"not an Alpine version: {text!r}")
    out.append((DIGIT, int(m.group())))
    i = m.end()
    while i < len(text):
        ch = text[i]
        if ch == "." and (m := _DIGITS.match(text, i + 1)) and out[-1][0] == DIGIT:
            out.append((DIGIT, int(m.group())))
            i = m.end()
        elif ch.islower() and out[-1][0] == DIGIT and not text[i + 1 : i + 2].islower():
            out.append((LETTER, ord(ch)))
            i += 1
        elif ch == "_" and (m := _LETTERS.match(text, i + 1)) and out[-1][0] != REVISION:
            out.append((SUFFIX, _suffix_value(m.group(), text)))
            i = m.end()
            if n := _DIGITS.match(text, i):
                out.append((SUFFIX_NO, int(n.group())))
                i = n.end()
        elif text.startswith("-r", i) and (m := _DIGITS.match(text, i + 2)):
            out.append((REVISION, int(m.group())))
            i = m.end()
            if i != len(text):
                raise InvalidVersionError(f"text after the revision in {text!r}")
        else:
            raise InvalidVersionError(f"not an Alpine version: {text!r}")
    out.append((END, 0))
    return out


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` orders before, equal to or after `b` (apk version -t)."""
    ta, tb = tokens(a), tokens(b)
    for (at, av), (bt, bv) in zip(ta, tb, strict=False):
        if at != bt:
            # The longer version is newer unless what it has more is a pre-release suffix.
            if at == SUFFIX and av < 0:
                return -1
            if bt == SUFFIX and bv < 0:
                return 1
            return -1 if at > bt else 1
        if av != bv:
            return -1 if av < bv else 1
        if at == END:
            return 0
    return 0  # pragma: no cover - both lists end with END
