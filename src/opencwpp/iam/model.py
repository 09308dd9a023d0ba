"""The evaluator's vocabulary: policy sets, requests, decisions, and statement normalisation.

Policy documents are normalised once (actions compiled, strings split into wildcard / variable
tokens, conditions parsed) and cached by content, so evaluating many requests against the same
policies costs only the matching.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from opencwpp.core.errors import CwppError
from opencwpp.iam.conditions import Condition, parse_condition_block
from opencwpp.iam.matching import ActionPattern, action_pattern
from opencwpp.iam.variables import Tokens, tokenize

VARIABLES_VERSION = "2012-10-17"
Document = Mapping[str, Any] | str


class PolicyError(CwppError):
    """A policy document or a request AWS would reject (the message names what and where)."""


class Effect(StrEnum):
    """A statement's effect."""

    ALLOW = "Allow"
    DENY = "Deny"


class Source(StrEnum):
    """Where a statement came from."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"


class DecisionKind(StrEnum):
    """The three outcomes AWS distinguishes."""

    ALLOW = "Allow"
    IMPLICIT_DENY = "ImplicitDeny"
    EXPLICIT_DENY = "ExplicitDeny"


@dataclass(frozen=True, slots=True)
class Origin:
    """A policy's place in the policy set: its source, index, and SCP level (0 = root)."""

    source: Source
    policy: int = 0
    level: int | None = None

    def __str__(self) -> str:
        if self.source is Source.SCP:
            return f"SCP level {self.level} policy {self.policy}"
        if self.source is Source.IDENTITY:
            return f"identity policy {self.policy}"
        return {
            Source.RESOURCE: "resource policy",
            Source.BOUNDARY: "permissions boundary",
            Source.SESSION: "session policy",
        }[self.source]


Principals = dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True, eq=False)
class Statement:
    """One normalised statement; None for an element means the element is absent."""

    origin: Origin
    index: int
    sid: str | None
    effect: Effect
    actions: tuple[ActionPattern, ...] | None
    not_actions: tuple[ActionPattern, ...] | None
    resources: tuple[Tokens, ...] | None
    not_resources: tuple[Tokens, ...] | None
    principal: Principals | None  # `{}` when absent; None when `"*"`
    not_principal: Principals | None
    conditions: tuple[Condition, ...]
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def label(self) -> str:
        """`identity policy 0 statement "Sid"` (or `#index` when there is no Sid)."""
        name = f'"{self.sid}"' if self.sid else f"#{self.index}"
        return f"{self.origin} statement {name}"


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) for i in items):
        raise PolicyError(f"{where} must be a string or a non-empty list of strings")
    return tuple(items)


def _principals(value: Any, where: str) -> Principals | None:
    if value == "*":
        return None
    if not isinstance(value, dict):
        raise PolicyError(f'{where} must be "*" or an object such as {{"AWS": [...]}}')
    return {str(k): _strings(v, f"{where}.{k}") for k, v in value.items()}


def _statement(raw: Any, origin: Origin, index: int, variables: bool) -> Statement:
    where = f"{origin} statement #{index}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} is not an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f'{where}: Effect must be "Allow" or "Deny", not {effect!r}')
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError(f"{where}: exactly one of Action and NotAction is required")
    if "Resource" in raw and "NotResource" in raw:
        raise PolicyError(f"{where}: Resource and NotResource cannot both be present")

    def actions(key: str) -> tuple[ActionPattern, ...] | None:
        if key not in raw:
            return None
        return tuple(action_pattern(a) for a in _strings(raw[key], f"{where}.{key}"))

    def resources(key: str) -> tuple[Tokens, ...] | None:
        if key not in raw:
            return None
        return tuple(
            tokenize(r, variables=variables, wildcards=True)
            for r in _strings(raw[key], f"{where}.{key}")
        )

    try:
        conditions = parse_condition_block(raw.get("Condition", {}), variables)
    except ValueError as err:
        raise PolicyError(f"{where}: {err}") from None
    return Statement(
        origin=origin,
        index=index,
        sid=str(raw["Sid"]) if raw.get("Sid") is not None else None,
        effect=Effect(effect),
        actions=actions("Action"),
        not_actions=actions("NotAction"),
        resources=resources("Resource"),
        not_resources=resources("NotResource"),
        principal=_principals(raw["Principal"], f"{where}.Principal") if "Principal" in raw else {},
        not_principal=_principals(raw["NotPrincipal"], f"{where}.NotPrincipal")
        if "NotPrincipal" in raw
        else None,
        conditions=conditions,
        raw=raw,
    )


@lru_cache(maxsize=8192)
def _parse_text(text: str, origin: Origin) -> tuple[Statement, ...]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise PolicyError(f"{origin} is not valid JSON: {err.msg} at line {err.lineno}") from None
    if not isinstance(doc, dict):
        raise PolicyError(f"{origin} must be a JSON object")
    statements = doc.get("Statement")
    if statements is None:
        raise PolicyError(f"{origin} has no Statement")
    items = statements if isinstance(statements, list) else [statements]
    variables = doc.get("Version") == VARIABLES_VERSION
    return tuple(_statement(s, origin, i, variables) for i, s in enumerate(items))


def parse_policy(doc: Document, origin: Origin) -> tuple[Statement, ...]:
    """Normalises one policy document (a mapping or its JSON text), cached by content."""
    text = doc if isinstance(doc, str) else json.dumps(doc, sort_keys=True)
    return _parse_text(text, origin)


class PolicySet:
    """Every policy that applies to one request, normalised once.

    `boundary` / `session` None means there is none (nothing to intersect with); `scp` None means
    the principal's account is outside an Organization (or is its management account); otherwise
    one list of documents per level, from the root down to the account.
    """

    __slots__ = (
        "action_index",
        "boundary",
        "identity",
        "resource",
        "resource_index",
        "scp",
        "session",
    )

    def __init__(
        self,
        identity: Sequence[Document] = (),
        resource: Document | None = None,
        boundary: Document | None = None,
        session: Document | None = None,
        scp: Sequence[Sequence[Document]] | None = None,
    ) -> None:
        # (group, lower-cased action) → the statements whose Action / NotAction covers it
        self.action_index: dict[tuple[str, str], tuple[tuple[Statement, str], ...]] = {}
        self.resource_index: dict[tuple[str, str], tuple[tuple[Statement, str], ...]] = {}
        self.identity = tuple(
            s for i, d in enumerate(identity) for s in parse_policy(d, Origin(Source.IDENTITY, i))
        )
        self.resource = () if resource is None else parse_policy(resource, Origin(Source.RESOURCE))
        self.boundary = (
            None if boundary is None else parse_policy(boundary, Origin(Source.BOUNDARY))
        )
        self.session = None if session is None else parse_policy(session, Origin(Source.SESSION))
        self.scp = (
            None
            if scp is None
            else tuple(
                tuple(
                    s
                    for p, d in enumerate(level)
                    for s in parse_policy(d, Origin(Source.SCP, p, n))
                )
                for n, level in enumerate(scp)
            )
        )


@dataclass(frozen=True, slots=True)
class Request:
    """One API call: who (an ARN, a service or "anonymous"), what, on what, in what context.

    `role_arn` is the role behind an assumed-role session ARN (needed when the role has a path);
    `resource_account` defaults to the principal's account.
    """

    principal: str
    action: str
    resource: str
    resource_account: str | None = None
    role_arn: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DecidingStatement:
    """A statement that took part in the decision, and why it applies."""

    statement: Statement
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        origin = self.statement.origin
        return {
            "source": origin.source.value,
            "level": origin.level,
            "policy": origin.policy,
            "statement": self.statement.index,
            "sid": self.statement.sid,
            "effect": self.statement.effect.value,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, the statements that decided it and the human reasons."""

    kind: DecisionKind
    statements: tuple[DecidingStatement, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        """Whether the request is allowed."""
        return self.kind is DecisionKind.ALLOW

    def to_dict(self) -> dict[str, Any]:
        """`{"decision": …, "reasons": […], "statements": […]}`."""
        return {
            "decision": self.kind.value,
            "reasons": list(self.reasons),
            "statements": [s.to_dict() for s in self.statements],
        }
