"""Deciding requests over the estate: one policy set per principal, and an index that skips work.

`Access.covers(principal, action)` says whether any Allow statement of the principal's identity
policies (capped by its boundary) could match the action, from an index built once per policy
document over the actions an analysis cares about. It is a superset test: when it says no, no
identity-based grant exists and only a resource policy naming the principal can allow; when it
says yes, the evaluator decides on the concrete resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from opencwpp.iam.estate import Estate, Principal
from opencwpp.iam.evaluator import evaluate
from opencwpp.iam.model import (
    Decision,
    DecisionKind,
    Effect,
    Origin,
    PolicySet,
    Request,
    Source,
    Statement,
    parse_policy,
)
from opencwpp.iam.request import resource_policy_required
from opencwpp.iam.variables import STAR

SESSION_NAME = "cwpp-analysis"
# "Allowed everything": these on `*`, among them an action of a service no policy names, which
# only `"Action": "*"` covers (a NotAction or a deny of a major service fails one of the others).
ADMIN_PROBES = (
    "cwppprobe:AnyAction",
    "iam:PutRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateUser",
    "iam:PassRole",
    "sts:AssumeRole",
    "s3:GetObject",
    "s3:PutObject",
    "ec2:RunInstances",
    "kms:Decrypt",
    "lambda:CreateFunction",
    "secretsmanager:GetSecretValue",
)


def caller_arn(principal: Principal) -> str:
    """The ARN a principal calls with: the user, or a session of the role."""
    if principal.kind == "role":
        return f"arn:aws:sts::{principal.account_id}:assumed-role/{principal.name}/{SESSION_NAME}"
    return principal.arn


def with_resource(base: PolicySet, resource: tuple[Statement, ...]) -> PolicySet:
    """The same principal side (its action index shared) with another parsed resource policy."""
    other = PolicySet.__new__(PolicySet)
    other.action_index = base.action_index
    other.resource_index = {}
    other.identity, other.boundary = base.identity, base.boundary
    other.session, other.scp = base.session, base.scp
    other.resource = resource
    return other


def _any_resource(stmt: Statement) -> bool:
    """Whether a statement applies to every resource (`"Resource": "*"`)."""
    return stmt.resources is not None and all(
        len(tokens) == 1 and tokens[0].kind == STAR for tokens in stmt.resources
    )


def _by_service(actions: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for action in actions:
        out.setdefault(action.split(":", 1)[0], []).append(action)
    return {k: tuple(v) for k, v in out.items()}


def _covered(
    statements: Iterable[Statement],
    actions: tuple[str, ...],
    by_service: dict[str, tuple[str, ...]],
) -> frozenset[str]:
    """The actions (lower-cased) some Allow statement's Action / NotAction covers.

    A wildcard never crosses the service prefix, so a pattern whose service part is literal is
    tried only on that service's actions.
    """
    out: set[str] = set()
    wanted = set(actions)
    for stmt in statements:
        if stmt.effect is not Effect.ALLOW:
            continue
        if stmt.actions is not None:
            for pattern in stmt.actions:
                text = pattern.text.lower()
                if "*" not in text and "?" not in text:
                    if text in wanted:
                        out.add(text)
                    continue
                service = text.split(":", 1)[0]
                pool = actions if "*" in service or "?" in service else by_service.get(service, ())
                out.update(a for a in pool if pattern.matches(a))
        elif stmt.not_actions is not None:
            out.update(a for a in actions if not any(p.matches(a) for p in stmt.not_actions))
    return frozenset(out)


class Access:
    """Decisions for the estate's principals, cached, with statements named by policy ref."""

    def __init__(self, estate: Estate, actions: Iterable[str] = ()) -> None:
        self.estate = estate
        self.actions = tuple(sorted({a.lower() for a in (*actions, *ADMIN_PROBES)}))
        self._admin: dict[str, bool] = {}
        self._services = _by_service(self.actions)
        self._sets: dict[str, PolicySet] = {}
        self._coverage: dict[str, frozenset[str]] = {}
        self._doc_coverage: dict[int, frozenset[str]] = {}
        self._resources: dict[str, tuple[Statement, ...]] = {}
        self._cache: dict[tuple[Any, ...], Decision] = {}
        self._free: dict[tuple[str, str], bool] = {}

    def policy_set(self, principal: Principal) -> PolicySet:
        """The principal's identity policies, boundary and SCPs, normalised once."""
        key = principal.key
        found = self._sets.get(key)
        if found is None:
            found = PolicySet(
                identity=[p.document for p in principal.policies],
                boundary=principal.boundary.document if principal.boundary else None,
                scp=self.estate.scp_for(principal.account_id),
            )
            self._sets[key] = found
        return found

    def _doc_cover(self, document: Mapping[str, Any]) -> frozenset[str]:
        key = id(document)
        found = self._doc_coverage.get(key)
        if found is None:
            statements = parse_policy(dict(document), Origin(Source.IDENTITY))
            found = _covered(statements, self.actions, self._services)
            self._doc_coverage[key] = found
        return found

    def coverage(self, principal: Principal) -> frozenset[str]:
        """The indexed actions an identity policy could allow (within the boundary)."""
        found = self._coverage.get(principal.key)
        if found is None:
            found = frozenset().union(*(self._doc_cover(p.document) for p in principal.policies))
            if principal.boundary is not None:
                found &= self._doc_cover(principal.boundary.document)
            self._coverage[principal.key] = found
        return found

    def covers(self, principal: Principal, actions: Iterable[str]) -> bool:
        """Whether identity policies could allow every one of the actions (superset test)."""
        have = self.coverage(principal)
        return all(a.lower() in have for a in actions)

    def resource_statements(
        self, arn: str, document: Mapping[str, Any] | None
    ) -> tuple[Statement, ...]:
        """A resource policy, parsed once per resource."""
        if document is None:
            return ()
        found = self._resources.get(arn)
        if found is None:
            found = parse_policy(dict(document), Origin(Source.RESOURCE))
            self._resources[arn] = found
        return found

    def decide(
        self,
        principal: Principal,
        action: str,
        resource: str,
        *,
        resource_policy: tuple[str, Mapping[str, Any]] | None = None,
        context: Mapping[str, str] | None = None,
    ) -> Decision:
        """One decision (cached by principal, action, resource, policy and context)."""
        ctx = tuple(sorted((context or {}).items()))
        policy_key = resource_policy[0] if resource_policy else None
        lowered = action.lower()
        account = self.estate.account_of(resource) or principal.account_id
        if resource_policy is None and self._resource_free(principal, lowered):
            # Every statement about the action says `Resource: *`: one decision per account.
            required = resource_policy_required(lowered, resource)
            key: tuple[Any, ...] = (principal.key, lowered, account, required, ctx)
        else:
            key = (principal.key, lowered, resource, policy_key, ctx)
        found = self._cache.get(key)
        if found is not None:
            return found
        base = self.policy_set(principal)
        if resource_policy is not None:
            base = with_resource(base, self.resource_statements(*resource_policy))
        request = Request(
            caller_arn(principal),
            action,
            resource,
            resource_account=account,
            role_arn=principal.arn if principal.kind == "role" else None,
            context=dict(context or {}),
        )
        found = evaluate(base, request)
        self._cache[key] = found
        return found

    def is_admin(self, principal: Principal) -> bool:
        """Whether the principal is allowed everything (`ADMIN_PROBES` on `*`)."""
        found = self._admin.get(principal.key)
        if found is None:
            found = self.covers(principal, ADMIN_PROBES) and all(
                self.allowed(principal, a, "*") for a in ADMIN_PROBES
            )
            self._admin[principal.key] = found
        return found

    def _resource_free(self, principal: Principal, action: str) -> bool:
        key = (principal.key, action)
        found = self._free.get(key)
        if found is None:
            ps = self.policy_set(principal)
            groups = [ps.identity, ps.boundary or (), *(ps.scp or ())]
            found = all(
                _any_resource(stmt)
                for group in groups
                for stmt in group
                if (
                    any(p.matches(action) for p in stmt.actions)
                    if stmt.actions is not None
                    else not any(p.matches(action) for p in stmt.not_actions or ())
                )
            )
            self._free[key] = found
        return found

    def allowed(self, principal: Principal, action: str, resource: str, **kwargs: Any) -> bool:
        """Whether the request is allowed."""
        return self.decide(principal, action, resource, **kwargs).kind is DecisionKind.ALLOW


def statement_refs(principal: Principal, decision: Decision) -> list[dict[str, Any]]:
    """The deciding statements named by the policy a user can open (ARN or inline name)."""
    out = []
    for deciding in decision.statements:
        stmt = deciding.statement
        origin = stmt.origin
        if origin.source is Source.IDENTITY and origin.policy < len(principal.policies):
            policy = principal.policies[origin.policy].ref
        elif origin.source is Source.BOUNDARY and principal.boundary is not None:
            policy = principal.boundary.ref
        else:
            policy = str(origin)
        out.append(
            {
                "policy": policy,
                "source": origin.source.value,
                "statement": stmt.index,
                "sid": stmt.sid,
                "effect": stmt.effect.value,
            }
        )
    return out


_ARN = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$")


def looks_like_arn(text: str) -> bool:
    """Whether a string has the shape of an ARN."""
    return _ARN.match(text) is not None
