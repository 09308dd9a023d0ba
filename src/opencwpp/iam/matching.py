"""Action, ARN and principal matching, compiled once and cached.

Actions match case-insensitively and a wildcard never crosses the `service:` prefix (`s3:*` does not
match `s3express:CreateSession`). ARNs match case-sensitively segment by segment: in the partition,
service, region and account segments `*` and `?` stay inside the segment; in the resource segment
they match anything, including `/` and `:`.
"""

from __future__ import annotations

import re
from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple

from opencwpp.iam.variables import LIT, STAR, Tokens, tokenize

_ARN_SEGMENTS = 6


@lru_cache(maxsize=65536)
def glob_regex(tokens: Tokens, ignore_case: bool = False) -> re.Pattern[str]:
    """A whole-string pattern where `*` matches any run of characters and `?` exactly one."""
    parts = [
        re.escape(t.text) if t.kind == LIT else ".*" if t.kind == STAR else "." for t in tokens
    ]
    return re.compile("".join(parts), (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


@lru_cache(maxsize=65536)
def arn_regex(tokens: Tokens) -> re.Pattern[str]:
    """An ARN pattern matched per segment (`*` alone, or a pattern without `:`, as a glob).

    A pattern with fewer than six segments cannot match a full ARN: its last wildcard stays
    inside its own segment, as AWS checks each colon-delimited component separately.
    """
    if not any(t.kind == LIT and ":" in t.text for t in tokens):
        return glob_regex(tokens)
    parts: list[str] = []
    segment = 0
    for token in tokens:
        if token.kind == LIT:
            for char in token.text:
                if char == ":" and segment < _ARN_SEGMENTS - 1:
                    segment += 1
                parts.append(re.escape(char))
        elif segment < _ARN_SEGMENTS - 1:
            parts.append("[^:]*" if token.kind == STAR else "[^:]")
        else:
            parts.append(".*" if token.kind == STAR else ".")
    return re.compile("".join(parts), re.DOTALL)


def arn_matches(tokens: Tokens, arn: str) -> bool:
    """Whether a resolved ARN pattern matches a concrete ARN (case-sensitive)."""
    return arn_regex(tokens).fullmatch(arn) is not None


class ActionPattern:
    """One entry of Action / NotAction, compiled: `*`, a literal or a wildcard pattern."""

    __slots__ = ("_literal", "_regex", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._literal: str | None = None
        self._regex: re.Pattern[str] | None = None
        lowered = text.lower()
        if lowered == "*":
            self._regex = re.compile(".*", re.DOTALL)
        elif ":" not in lowered:
            self._literal = "\x00never"
        elif "*" not in lowered and "?" not in lowered:
            self._literal = lowered
        else:
            parts = []
            for token in tokenize(lowered, variables=False, wildcards=True):
                if token.kind == LIT:
                    parts.append(re.escape(token.text))
                else:
                    parts.append("[^:]*" if token.kind == STAR else "[^:]")
            self._regex = re.compile("".join(parts))

    def matches(self, action_lower: str) -> bool:
        """Whether the (lower-cased) request action matches."""
        if self._literal is not None:
            return self._literal == action_lower
        assert self._regex is not None
        return self._regex.fullmatch(action_lower) is not None


@lru_cache(maxsize=16384)
def action_pattern(text: str) -> ActionPattern:
    """The compiled action pattern (cached: the same strings recur across policies)."""
    return ActionPattern(text)


class Grant(IntEnum):
    """How a resource-policy statement names the caller, which decides what else must allow."""

    ACCOUNT = 1  # the caller's account: identity policies must allow too
    ROLE = 2  # the role ARN: boundary and session policy still limit it
    DIRECT = 3  # the user, the session, `*` or a service: allows on its own in the same account


class Caller(NamedTuple):
    """Who is asking, as a resource policy's Principal can name it."""

    kind: str  # user | session | role | root | federated | service | anonymous
    direct: str | None  # user ARN, session ARN, federated session ARN, service name
    role: str | None  # role ARN for role sessions
    account: str | None


def _names_account(value: str, account: str | None) -> bool:
    return account is not None and value in (account, f"arn:aws:iam::{account}:root")


def grant_for(principal: dict[str, tuple[str, ...]] | None, caller: Caller) -> Grant | None:
    """How a Principal element (`{"AWS": (…), "Service": (…)}`; None = `"*"`) names the caller."""
    if principal is None:
        return Grant.DIRECT
    best: Grant | None = None
    for kind, values in principal.items():
        for value in values:
            found: Grant | None = None
            if kind == "AWS" and value == "*":
                found = Grant.DIRECT
            elif caller.kind == "anonymous":
                continue
            elif caller.direct is not None and value == caller.direct:
                found = Grant.DIRECT
            elif kind == "AWS" and caller.role is not None and value == caller.role:
                found = Grant.ROLE
            elif kind == "AWS" and _names_account(value, caller.account):
                found = Grant.DIRECT if caller.kind == "root" else Grant.ACCOUNT
            if found is not None and (best is None or found > best):
                best = found
    return best


def excluded_by(not_principal: dict[str, tuple[str, ...]], caller: Caller) -> bool:
    """Whether NotPrincipal excludes the caller: every link of its chain must be listed.

    AWS checks the session, its role and its account: a NotPrincipal that lists the role but not
    the account still applies to the role's sessions.
    """
    listed = {v for values in not_principal.values() for v in values}
    if "*" in listed:
        return True
    if caller.kind == "anonymous":
        return False
    chain = [x for x in (caller.direct, caller.role) if x is not None]
    if caller.account is not None and caller.kind != "service":
        chain.append(caller.account)
    if not chain:
        return False
    for link in chain:
        if link == caller.account:
            if not any(_names_account(v, caller.account) for v in listed):
                return False
        elif link not in listed:
            return False
    return True
