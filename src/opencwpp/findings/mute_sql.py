"""The mutelist applied in SQL to staged findings, matching exactly as `Mutelist.apply` does.

Each rule becomes a predicate: its shell globs (`fnmatchcase`: `*`, `?`, `[seq]`, `[!seq]`,
case-sensitive, `*` across newlines) as LIKE when they have no brackets, else as a regular
expression that RE2 (DuckDB) and PostgreSQL read alike. Patterns and tag keys travel as bound
parameters, never as SQL text. The first active rule that covers a FAIL finding mutes it with
its owner and reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

from opencwpp.findings.mutelist import MuteRule

_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def _bracket(pat: str, i: int, n: int) -> tuple[str | None, int]:
    """`fnmatch.translate`'s reading of a `[...]` set starting after `[` at `i`.

    Returns the regex for the set (None: an empty range, which never matches; "" for a lone
    `[`, which is literal) and the index after it.
    """
    j = i
    if j < n and pat[j] == "!":
        j += 1
    if j < n and pat[j] == "]":
        j += 1
    while j < n and pat[j] != "]":
        j += 1
    if j >= n:
        return "\\[", i
    stuff = pat[i:j]
    if "-" not in stuff:
        stuff = stuff.replace("\\", r"\\")
    else:
        chunks = []
        k = i + 2 if pat[i] == "!" else i + 1
        start = i
        while True:
            k = pat.find("-", k, j)
            if k < 0:
                break
            chunks.append(pat[start:k])
            start = k + 1
            k = k + 3
        chunk = pat[start:j]
        if chunk:
            chunks.append(chunk)
        else:
            chunks[-1] += "-"
        for k in range(len(chunks) - 1, 0, -1):  # drop empty ranges, as fnmatch does
            if chunks[k - 1][-1] > chunks[k][0]:
                chunks[k - 1] = chunks[k - 1][:-1] + chunks[k][1:]
                del chunks[k]
        stuff = "-".join(s.replace("\\", r"\\").replace("-", r"\-") for s in chunks)
    stuff = re.sub(r"([&~|])", r"\\\1", stuff)
    if not stuff:
        return None, j + 1
    if stuff == "!":
        return ".", j + 1
    if stuff[0] == "!":
        stuff = "^" + stuff[1:]
    elif stuff[0] in ("^", "["):
        stuff = "\\" + stuff
    return f"[{stuff}]", j + 1


def glob_regex(pattern: str) -> str | None:
    """The regex body (full match, dot matching newlines) of a glob; None if it never matches."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not out or out[-1] != ".*":
                out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            piece, i = _bracket(pattern, i, n)
            if piece is None:
                return None
            out.append(piece)
        else:
            out.append("\\" + c if c in _REGEX_SPECIAL else c)
    return "".join(out)


def glob_like(pattern: str) -> str:
    """A bracket-free glob as a LIKE pattern escaped with a backslash."""
    table = {"*": "%", "?": "_", "%": "\\%", "_": "\\_", "\\": "\\\\"}
    return "".join(table.get(c, c) for c in pattern)


def glob_sql(expr: str, pattern: str, dialect: str) -> tuple[str, list[Any]]:
    """A predicate: `fnmatchcase(expr, pattern)` in SQL, with its parameters."""
    if pattern and set(pattern) == {"*"}:
        return "TRUE", []
    text = "CAST(? AS text)" if dialect == "postgres" else "?"
    if "[" not in pattern:
        return f"({expr} LIKE {text} ESCAPE '\\')", [glob_like(pattern)]
    body = glob_regex(pattern)
    if body is None:
        return "FALSE", []
    if dialect == "postgres":
        return f"({expr} ~ {text})", [f"^(?:{body})$"]
    return f"regexp_full_match({expr}, ?)", [f"(?s){body}"]


def _tag_sql(key: str, pattern: str, dialect: str) -> tuple[str, list[Any]]:
    if dialect == "postgres":
        value = "COALESCE(resource_tags ->> CAST(? AS text), 'None')"
        match, params = glob_sql(value, pattern, dialect)
        return f"((resource_tags -> CAST(? AS text)) IS NOT NULL AND {match})", [
            key,
            key,
            *params,
        ]
    pointer = "/" + key.replace("~", "~0").replace("/", "~1")
    value = "COALESCE(json_extract_string(resource_tags, ?), 'None')"
    match, params = glob_sql(value, pattern, dialect)
    return f"(json_exists(resource_tags, ?) AND {match})", [pointer, pointer, *params]


def rule_sql(rule: MuteRule, dialect: str, check: bool = True) -> tuple[str, list[Any]]:
    """A predicate over a staged finding: `rule.matches(finding)` in SQL.

    Without `check`, the rule's check glob is left out (the caller matched it already).
    """
    parts: list[tuple[str, list[Any]]] = []
    if check:
        parts.append(glob_sql("check_id", rule.check, dialect))
    by_uid, uid_params = glob_sql("resource_uid", rule.resource, dialect)
    by_name, name_params = glob_sql("resource_name", rule.resource, dialect)
    parts.append((f"({by_uid} OR {by_name})", uid_params + name_params))
    parts.append(glob_sql("account_id", rule.account, dialect))
    parts.append(glob_sql("region", rule.region, dialect))
    parts += [_tag_sql(k, v, dialect) for k, v in rule.tags.items()]
    return "(" + " AND ".join(p for p, _ in parts) + ")", [x for _, ps in parts for x in ps]


def mute_update(
    rules: Sequence[MuteRule], table: str, dialect: str, check_id: str | None = None
) -> tuple[str, list[Any]] | None:
    """An UPDATE muting the FAIL rows of `table` that one of `rules` (active ones) covers.

    With `check_id`, every row of `table` is of that check: only the rules whose check glob
    matches it apply. None when no rule can match.
    """
    if check_id is not None:
        rules = [r for r in rules if fnmatchcase(check_id, r.check)]
    if not rules:
        return None
    compiled = [rule_sql(r, dialect, check=check_id is None) for r in rules]
    cases, case_params = [], []
    for rule, (predicate, params) in zip(rules, compiled, strict=True):
        cases.append(f"WHEN {predicate} THEN ?")
        case_params += [*params, f"muted by {rule.owner}: {rule.reason}"]
    where = " OR ".join(p for p, _ in compiled)
    sql = (
        f"UPDATE {table} SET status = 'MUTED', status_reason = CASE {' '.join(cases)} END "
        f"WHERE status = 'FAIL' AND ({where})"
    )
    return sql, case_params + [x for _, ps in compiled for x in ps]
