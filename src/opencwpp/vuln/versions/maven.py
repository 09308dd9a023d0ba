"""Maven version ordering: the rules of Maven's ComparableVersion (3.x).

Items are integers, qualifiers and sub-lists (after `-` or a digit/letter switch); known
qualifiers order alpha < beta < milestone < rc = cr < snapshot < (release = ga = final = "")
< sp, unknown ones after sp, alphabetically; trailing "null" items are dropped.
"""

from __future__ import annotations

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE = str(_QUALIFIERS.index(""))

Item = int | str | list["Item"]


def _qualifier_key(value: str) -> str:
    if value in _QUALIFIERS:
        return str(_QUALIFIERS.index(value))
    return f"{len(_QUALIFIERS)}-{value}"


def _string_item(value: str, followed_by_digit: bool) -> str:
    if followed_by_digit and len(value) == 1:
        value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
    return _ALIASES.get(value, value)


def _is_null(item: Item) -> bool:
    return item == 0 or item == "" or item == []


def _normalize(items: list[Item]) -> None:
    # Null items are dropped from the end, looking past sub-lists (as ListItem.normalize does).
    for i in range(len(items) - 1, -1, -1):
        if _is_null(items[i]):
            del items[i]
        elif not isinstance(items[i], list):
            break


def parse(text: str) -> list[Item]:
    """The item tree of a Maven version string."""
    version = text.strip().lower()
    root: list[Item] = []
    current = root
    stack = [root]
    is_digit = False
    start = 0

    def push() -> list[Item]:
        new: list[Item] = []
        current.append(new)
        stack.append(new)
        return new

    def item(buf: str, digit: bool, followed_by_digit: bool = False) -> Item:
        return int(buf) if digit else _string_item(buf, followed_by_digit)

    for i, ch in enumerate(version):
        if ch in ".-":
            current.append(0 if i == start else item(version[start:i], is_digit))
            start = i + 1
            if ch == "-":
                current = push()
        elif ch.isdigit():
            if not is_digit and i > start:
                current.append(item(version[start:i], False, followed_by_digit=True))
                start = i
                current = push()
            is_digit = True
        else:
            if is_digit and i > start:
                current.append(item(version[start:i], True))
                start = i
                current = push()
            is_digit = False
    if len(version) > start:
        current.append(item(version[start:], is_digit))
    for lst in reversed(stack):
        _normalize(lst)
    return root


def _cmp(left: Item | None, right: Item | None) -> int:
    if left is None:
        return 0 if right is None else -_cmp(right, None)
    if isinstance(left, int):
        if right is None:
            return 0 if left == 0 else 1
        if isinstance(right, int):
            return (left > right) - (left < right)
        return 1
    if isinstance(left, str):
        if right is None:
            key, rel = _qualifier_key(left), _RELEASE
            return (key > rel) - (key < rel)
        if isinstance(right, str):
            ka, kb = _qualifier_key(left), _qualifier_key(right)
            return (ka > kb) - (ka < kb)
        return -1
    if right is None:
        return _cmp(left[0], None) if left else 0
    if isinstance(right, int):
        return -1
    if isinstance(right, str):
        return 1
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else None
        b = right[i] if i < len(right) else None
        result = _cmp(a, b)
        if result:
            return result
    return 0


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` orders before, equal to or after `b`."""
    return _cmp(parse(a), parse(b))
