"""The dashboard's one write: a mute rule appended to the mutelist YAML file.

The new rule is validated with `opencwpp.findings.mutelist` before and after writing. The rule
is appended as text when that keeps the file's comments and parses to the old rules plus the new
one; otherwise the file is rewritten from its parsed content. Writes go through a temporary file
and an atomic rename, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from opencwpp.core.errors import ConfigError, UsageError
from opencwpp.findings.mutelist import MuteRule, load_mutelist

_LOCK = threading.Lock()
_ITEM_INDENT = re.compile(r"^mutes:[ \t]*\n(?:[ \t]*(?:#.*)?\n)*([ \t]*)- ", re.M)
_EMPTY_LIST = re.compile(r"^mutes:[ \t]*\[[ \t]*\][ \t]*$", re.M)


def new_rule(raw: dict[str, Any], today: date | None = None) -> MuteRule:
    """A validated rule from user input; an expiry in the past is refused."""
    try:
        rule = MuteRule.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"invalid mute rule: {where}: {first['msg']}") from err
    if rule.expires < (today or date.today()):
        raise UsageError(f"invalid mute rule: expires {rule.expires} is in the past")
    return rule


def _item(rule: MuteRule) -> dict[str, Any]:
    return rule.model_dump(mode="json", exclude_none=True)


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".mutelist-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        load_mutelist(Path(tmp))  # never install a file the product could not read
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _same(mutes: object, expected: list[dict[str, Any]]) -> bool:
    if not isinstance(mutes, list):
        return False
    try:
        return [_item(MuteRule.model_validate(m)) for m in mutes] == expected
    except ValidationError:
        return False


def _appended(original: str, rule: MuteRule, expected: list[dict[str, Any]]) -> str | None:
    """The file with the rule appended as text, when that parses to exactly `expected`."""
    item = yaml.safe_dump([_item(rule)], sort_keys=False, allow_unicode=True)
    if not original.strip():
        return "mutes:\n" + item
    body = original if original.endswith("\n") else original + "\n"
    found = _ITEM_INDENT.search(body)
    indent = found.group(1) if found else ""
    indented = "".join(indent + line for line in item.splitlines(keepends=True))
    for candidate in (body + indented, _EMPTY_LIST.sub("mutes:", body) + item):
        try:
            parsed = yaml.safe_load(candidate)
        except yaml.YAMLError:
            continue
        if isinstance(parsed, dict) and _same(parsed.get("mutes"), expected):
            return candidate
    return None


def append_rule(path: Path, rule: MuteRule) -> None:
    """Adds `rule` to the mutelist at `path` (created when missing)."""
    with _LOCK:
        try:
            original = path.read_text(encoding="utf-8") if path.exists() else ""
        except OSError as err:
            raise ConfigError(f"cannot read mutelist {path}: {err.strerror}") from err
        before = list(load_mutelist(path).rules) if original.strip() else []
        expected = [_item(r) for r in [*before, rule]]
        candidate = _appended(original, rule, expected)
        if candidate is None:
            document = yaml.safe_load(original) if original.strip() else {}
            document = document if isinstance(document, dict) else {}
            document["mutes"] = expected
            candidate = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        try:
            _write(path, candidate)
        except OSError as err:
            raise ConfigError(f"cannot write mutelist {path}: {err.strerror}") from err
