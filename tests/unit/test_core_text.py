"""Text and numbers every backend can store: input/expected pairs."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from opencwpp.core.text import json_loads, storable_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("café ☕ \U0001f600", "café ☕ \U0001f600"),  # valid text is left alone
        (os.fsdecode(b"site\xff\xfe"), "site\\xff\\xfe"),  # undecodable bytes, as read
        (os.fsdecode(b"caf\xc3\xa9/\xff"), "café/\\xff"),
        ("a\ud800b", "a\ufffdb"),  # a lone surrogate that stands for no byte
        ("a\udfffb\udc80", "a\ufffdb\\x80"),
        ("nul\x00kept", "nul\x00kept"),  # NUL is the backend's business (PostgreSQL: U+FFFD)
    ],
)
def test_storable_text(text: str, expected: str) -> None:
    assert storable_text(text) == expected
    storable_text(text).encode("utf-8")  # always encodable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "\\ud800"}', {"a": "\ufffd"}),
        ('{"\\udc00k": ["x\\udbff", 1]}', {"\ufffdk": ["x\ufffd", 1]}),
        ('["\\ud83d\\ude00"]', ["\U0001f600"]),  # a pair is the character it encodes
        ('{"a": "\\\\ud800"}', {"a": "\\ud800"}),  # an escaped backslash, no surrogate
        ('{"n": 1}', {"n": 1}),
    ],
)
def test_json_loads_replaces_lone_surrogates(text: str, expected: Any) -> None:
    assert json_loads(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"n": 1e999, "m": -1E999}', {"n": "1e999", "m": "-1E999"}),
        (
            '{"q": NaN, "i": Infinity, "j": -Infinity}',
            {"q": "NaN", "i": "Infinity", "j": "-Infinity"},
        ),
        (
            '{"f": 1.5e10, "i": 12345678901234567890123}',
            {"f": 1.5e10, "i": 12345678901234567890123},
        ),
    ],
)
def test_json_loads_keeps_what_json_cannot_write_back_as_text(text: str, expected: Any) -> None:
    assert json_loads(text) == expected


def test_json_nested_beyond_the_stack_is_bad_json_not_a_crash() -> None:
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        json_loads("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize("depth", [500, 990, 5_000])
def test_deep_json_with_a_surrogate_is_read_or_bad_json(depth: int) -> None:
    """The walk for lone surrogates recurses too: beyond the stack it is bad JSON as well."""
    text = "[" * depth + '"\\ud800"' + "]" * depth
    try:
        value = json_loads(text)
    except json.JSONDecodeError as err:
        assert "nested too deeply" in str(err)
        return
    for _ in range(depth):
        (value,) = value
    assert value == "\ufffd"
