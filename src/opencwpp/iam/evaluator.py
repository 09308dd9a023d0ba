"""`evaluate(policies, request)`: AWS's documented policy evaluation logic, as one pure function.

Order (IAM User Guide, "Policy evaluation logic" and "Cross-account policy evaluation logic"):
an explicit deny in any applicable policy wins; then every SCP level must allow; then, within one
account, a resource policy that names the user or the session allows on its own, one that names the
role is still limited by the boundary and the session policy, one that names the account defers to
the identity policies; across accounts both sides must allow. KMS key policies and role trust
policies must always allow; identity policies alone cannot grant access to a key or a role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from opencwpp.iam.conditions import condition_holds
from opencwpp.iam.matching import Caller, Grant, arn_matches, excluded_by, grant_for
from opencwpp.iam.model import (
    DecidingStatement,
    Decision,
    DecisionKind,
    Effect,
    PolicySet,
    Request,
    Statement,
)
from opencwpp.iam.request import caller_of, context_of, mapping_lookup, resource_policy_required
from opencwpp.iam.variables import Lookup, literal_text, resolve


@dataclass(frozen=True, slots=True)
class _Prepared:
    action: str  # lower-cased
    request: Request
    caller: Caller
    context: Mapping[str, tuple[str, ...]]
    lookup: Lookup
    has_boundary: bool


_INDEX_LIMIT = 65536


def _candidates(
    policies: PolicySet, group: str, statements: Iterable[Statement], action: str
) -> tuple[tuple[Statement, str], ...]:
    """The statements of one group whose Action / NotAction covers the action (memoised)."""
    key = (group, action)
    index = policies.resource_index if group == "resource" else policies.action_index
    found = index.get(key)
    if found is None:
        found = tuple((s, r) for s in statements if (r := _action_part(s, action)) is not None)
        if len(index) >= _INDEX_LIMIT:
            index.clear()
        index[key] = found
    return found


def _action_part(stmt: Statement, action: str) -> str | None:
    if stmt.actions is not None:
        for pattern in stmt.actions:
            if pattern.matches(action):
                return f"Action {pattern.text!r} matches"
        return None
    assert stmt.not_actions is not None
    if any(p.matches(action) for p in stmt.not_actions):
        return None
    return "NotAction does not list it"


def _resource_part(stmt: Statement, prep: _Prepared) -> str | None:
    arn = prep.request.resource
    patterns = stmt.resources if stmt.resources is not None else stmt.not_resources
    if patterns is None:
        return "no Resource element (the policy's own resource)"
    for tokens in patterns:
        resolved = resolve(tokens, prep.lookup)
        if resolved is not None and arn_matches(resolved, arn):
            if stmt.resources is not None:
                return f"Resource {literal_text(resolved)!r} matches"
            return None
    return None if stmt.resources is not None else "NotResource does not list it"


def _principal_part(stmt: Statement, prep: _Prepared) -> tuple[str, Grant] | None:
    if stmt.not_principal is not None:
        bounded = prep.has_boundary and prep.caller.kind in ("user", "role", "session")
        if excluded_by(stmt.not_principal, prep.caller) and not (
            stmt.effect is Effect.DENY and bounded
        ):
            return None
        return "NotPrincipal does not exclude the caller", Grant.DIRECT
    if stmt.principal == {}:
        return None
    grant = grant_for(stmt.principal, prep.caller)
    if grant is None:
        return None
    return f"Principal names the caller ({grant.name.lower()})", grant


def _match(
    stmt: Statement, action: str, prep: _Prepared, resource_policy: bool
) -> tuple[str, Grant] | None:
    """Whether a statement (whose action matched) applies, why, and how it names the caller."""
    resource = _resource_part(stmt, prep)
    if resource is None:
        return None
    grant = Grant.DIRECT
    parts = [action, resource]
    if resource_policy:
        principal = _principal_part(stmt, prep)
        if principal is None:
            return None
        parts.append(principal[0])
        grant = principal[1]
    for cond in stmt.conditions:
        if not condition_holds(cond, prep.context, prep.lookup):
            return None
    if stmt.conditions:
        parts.append(f"{len(stmt.conditions)} condition(s) hold")
    return "; ".join(parts), grant


Matches = list[tuple[DecidingStatement, Grant]]


def _scan(
    candidates: Iterable[tuple[Statement, str]], prep: _Prepared, resource: bool = False
) -> tuple[Matches, Matches]:
    """One pass over a policy's candidates: the Deny and the Allow statements that apply."""
    denies: Matches = []
    allows: Matches = []
    for stmt, action in candidates:
        found = _match(stmt, action, prep, resource)
        if found is not None:
            target = denies if stmt.effect is Effect.DENY else allows
            target.append((DecidingStatement(stmt, found[0]), found[1]))
    return denies, allows


def _plain(matches: Matches) -> list[DecidingStatement]:
    return [d for d, _ in matches]


def _deny(reason: str) -> Decision:
    return Decision(DecisionKind.IMPLICIT_DENY, (), (reason,))


def _allow(parts: list[tuple[str, list[DecidingStatement]]]) -> Decision:
    statements = tuple(s for _, group in parts for s in group)
    reasons = tuple(
        f"{what}: " + ", ".join(s.statement.label for s in group) for what, group in parts if group
    )
    return Decision(DecisionKind.ALLOW, statements, reasons)


def evaluate(policies: PolicySet, request: Request) -> Decision:
    """Decides one request against the policies that apply to it."""
    caller = caller_of(request)
    resource_account = request.resource_account or caller.account
    context = context_of(request, caller, resource_account)
    prep = _Prepared(
        request.action.lower(),
        request,
        caller,
        context,
        mapping_lookup(context),
        policies.boundary is not None,
    )
    principal_side = caller.kind not in ("anonymous", "service")
    scp_levels = policies.scp if principal_side and policies.scp is not None else ()
    action = prep.action
    res_denies, resource_allows = _scan(
        _candidates(policies, "resource", policies.resource, action), prep, resource=True
    )
    denies = _plain(res_denies)
    identity: list[DecidingStatement] = []
    boundary: list[DecidingStatement] = []
    session: list[DecidingStatement] = []
    scp_by_level: list[list[DecidingStatement]] = []
    if principal_side:
        for name, group, target in (
            ("identity", policies.identity, identity),
            ("boundary", policies.boundary or (), boundary),
            ("session", policies.session or (), session),
        ):
            group_denies, group_allows = _scan(_candidates(policies, name, group, action), prep)
            denies += _plain(group_denies)
            target += _plain(group_allows)
        for level, statements in enumerate(scp_levels):
            found = _candidates(policies, f"scp{level}", statements, action)
            level_denies, level_allows = _scan(found, prep)
            denies += _plain(level_denies)
            scp_by_level.append(_plain(level_allows))
    if denies:
        labels = ", ".join(d.statement.label for d in denies)
        return Decision(DecisionKind.EXPLICIT_DENY, tuple(denies), (f"explicit deny in {labels}",))

    scp_allows: list[DecidingStatement] = []
    for level, level_granted in enumerate(scp_by_level):
        if not level_granted:
            return _deny(f"no SCP at level {level} allows {request.action}")
        scp_allows += level_granted
    scp_part = ("every SCP level allows it", scp_allows)

    granted = _plain(resource_allows)
    best = max((g for _, g in resource_allows), default=None)
    if not principal_side:
        if granted:
            return _allow([("the resource policy allows it", granted)])
        return _deny(f"the resource policy does not allow {caller.kind} callers")

    root = caller.kind == "root"
    if root:
        identity, boundary = [], []
    boundary_ok = policies.boundary is None or root or bool(boundary)
    session_ok = policies.session is None or bool(session)
    limits = [("the boundary allows it", boundary), ("the session policy allows it", session)]
    required = resource_policy_required(prep.action, request.resource)
    cross = caller.account != resource_account

    if not cross and best is Grant.DIRECT:
        return _allow([("the resource policy names the caller", granted), scp_part])
    if not cross and best is Grant.ROLE and boundary_ok and session_ok:
        return _allow([("the resource policy names the role", granted), *limits, scp_part])
    if required and not granted:
        return _deny(f"the {required} does not allow it, and identity policies alone cannot")
    if cross and not granted:
        return _deny(f"cross-account: the resource policy of account {resource_account} must allow")
    missing = [
        name
        for name, ok in (
            ("no identity-based policy allows it", root or bool(identity)),
            ("the permissions boundary does not allow it", boundary_ok),
            ("the session policy does not allow it", session_ok),
        )
        if not ok
    ]
    if missing:
        prefix = "cross-account, the principal's side: " if cross else ""
        return _deny(prefix + "; ".join(missing))
    parts = [("identity policies allow it", identity), *limits]
    if granted:
        parts.append(("the resource policy allows the account", granted))
    decision = _allow([*parts, scp_part])
    if root:
        root_reason = "the account root user has full access to its own account's resources"
        return Decision(decision.kind, decision.statements, (root_reason, *decision.reasons))
    return decision
