"""Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, `${*}` …) and wildcards.

A policy string is split once into tokens: literal text, the `*` and `?` wildcards, and variables.
At evaluation the variables are replaced by request-context values (always literal text, never
wildcards), so `${*}` in a resource means a literal star, as AWS documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

LIT = 0
STAR = 1
QMARK = 2
VAR = 3

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_KEY_DEFAULT = re.compile(r"^\s*([^,\s']+)\s*(?:,\s*'([^']*)'\s*)?$")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


class Token(NamedTuple):
    """One piece of a policy string: literal text, a wildcard or a variable (key, default)."""

    kind: int
    text: str = ""
    default: str | None = None


Tokens = tuple[Token, ...]
Lookup = Callable[[str], str | None]


def _literal_or_wild(text: str, wildcards: bool, out: list[Token]) -> None:
    if not wildcards:
        if text:
            out.append(Token(LIT, text))
        return
    buf: list[str] = []
    for char in text:
        if char in "*?":
            if buf:
                out.append(Token(LIT, "".join(buf)))
                buf = []
            out.append(Token(STAR if char == "*" else QMARK))
        else:
            buf.append(char)
    if buf:
        out.append(Token(LIT, "".join(buf)))


def tokenize(text: str, *, variables: bool, wildcards: bool) -> Tokens:
    """Splits a policy string into tokens; variables only when the policy version enables them."""
    out: list[Token] = []
    pos = 0
    if variables:
        for match in _VARIABLE.finditer(text):
            _literal_or_wild(text[pos : match.start()], wildcards, out)
            inner = match.group(1).strip()
            key_default = _KEY_DEFAULT.match(inner)
            if inner in _SPECIAL:
                out.append(Token(LIT, _SPECIAL[inner]))
            elif key_default:
                out.append(Token(VAR, key_default.group(1).lower(), key_default.group(2)))
            else:
                _literal_or_wild(match.group(0), wildcards, out)
            pos = match.end()
    _literal_or_wild(text[pos:], wildcards, out)
    return tuple(out)


def has_variables(tokens: Tokens) -> bool:
    """Whether the tokens need the request context before they can be matched."""
    return any(t.kind == VAR for t in tokens)


def resolve(tokens: Tokens, lookup: Lookup) -> Tokens | None:
    """Replaces variables by their (literal) values; None when one has no value and no default."""
    if not has_variables(tokens):
        return tokens
    out: list[Token] = []
    for token in tokens:
        if token.kind != VAR:
            out.append(token)
            continue
        value = lookup(token.text)
        if value is None:
            value = token.default
        if value is None:
            return None
        out.append(Token(LIT, value))
    return tuple(out)


def literal_text(tokens: Tokens) -> str:
    """The text of resolved tokens, wildcards written back as `*` and `?`."""
    return "".join(t.text if t.kind == LIT else "*" if t.kind == STAR else "?" for t in tokens)
