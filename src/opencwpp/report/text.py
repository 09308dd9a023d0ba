"""Neutralising untrusted text (resource names, tags, details) before it reaches a terminal or page.

Cloud resource names and tags are chosen by whoever can create resources, so they may carry
terminal escape sequences or bidirectional overrides that would spoof what a reader sees.
"""

from __future__ import annotations

import re

# C0 and C1 control characters (ESC starts terminal sequences) and the Unicode bidi controls
# that reorder displayed text ("Trojan Source").
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[\t\n]+")

REPLACEMENT = "\ufffd"


def clean(value: str) -> str:
    """Replaces control and bidi characters with U+FFFD and folds tabs and newlines to a space."""
    return _UNSAFE.sub(REPLACEMENT, _SPACES.sub(" ", value))


def truncate(value: str, limit: int) -> str:
    """Shortens `value` to at most `limit` characters, marking the cut with an ellipsis."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return value if len(value) <= limit else value[: limit - 1] + "…"
