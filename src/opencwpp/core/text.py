r"""Text and numbers from JSON that every lake backend can store.

JSON may escape half of a UTF-16 surrogate pair alone (`\ud800`). Python's `json` reads it into
a string holding a lone surrogate, which is no Unicode character: neither DuckDB nor
PostgreSQL can store it, and the write failed with the whole file. Log records are written by
whoever calls the cloud, so such text is kept with U+FFFD in place of each lone surrogate
rather than refused (a refused record would be a way to hide one).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# A surrogate's escape, whether or not its pair follows: the parsed value is then walked.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _replaced(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replaced(item) for item in value]
    if isinstance(value, dict):
        return {_LONE_SURROGATE.sub("\ufffd", key): _replaced(item) for key, item in value.items()}
    return value


def json_loads(text: str) -> Any:
    """`json.loads`, giving only what every backend can store.

    Each lone surrogate (keys too) becomes U+FFFD; the value is walked for them only when the
    text escapes a surrogate. A number beyond a double (`1e999`) would come back as `Infinity`,
    and Python also reads the non-JSON `NaN` and `Infinity`; written back, neither is JSON, and
    PostgreSQL refused the file: such numbers are kept as strings of their text. Nesting too
    deep for Python's stack raises `json.JSONDecodeError`, as any bad JSON does.
    """
    try:
        value = json.loads(text, parse_float=_finite_or_text, parse_constant=str)
        return _replaced(value) if _SURROGATE_ESCAPE.search(text) else value
    except RecursionError:  # nesting deeper than Python's stack: bad input, not a crash
        raise json.JSONDecodeError("nested too deeply to read", text, 0) from None


def _finite_or_text(text: str) -> float | str:
    value = float(text)
    return value if math.isfinite(value) else text


def storable_text(text: str) -> str:
    r"""Text every backend and file format can hold.

    A name read from a file system or an image may hold bytes that are not UTF-8; Python
    decodes them to lone surrogates, which no backend can store. They are written as `\xff`
    (the byte they stand for), any other lone surrogate as U+FFFD.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        escaped = _LONE_SURROGATE.sub(_byte_or_replacement, text)
        return escaped.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def _byte_or_replacement(match: re.Match[str]) -> str:
    """A surrogate that stands for an undecodable byte stays (see `storable_text`)."""
    return match.group() if "\udc80" <= match.group() <= "\udcff" else "\ufffd"
