"""Where each technique could lead from one principal: concrete targets and the checks to make.

A plan names the node it leads to (a principal ARN, or ADMIN), the concrete target (a user, role,
group, policy or resource ARN) and one check per required action: the action, the resource it is
evaluated on, the resource policy that applies (a role's trust policy for `sts:AssumeRole`, a
function's policy …) and the request context (`iam:PassedToService` for `iam:PassRole`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opencwpp.iam.estate import Carrier, Estate, Principal
from opencwpp.iam.privesc.techniques import Model, Technique

ADMIN = "admin"
# Services whose role-carrying resources the inventory collects; others fall back to roles
# trusting the service, on the assumption that such a resource exists.
COLLECTED_CARRIERS = frozenset({"lambda.amazonaws.com", "ec2.amazonaws.com"})
_INSTANCE_ACTIONS = frozenset(
    {
        "ec2:modifyinstanceattribute",
        "ec2:stopinstances",
        "ec2:startinstances",
        "ssm:startsession",
        "ssm:sendcommand",
        "ec2-instance-connect:sendsshpublickey",
    }
)


@dataclass(frozen=True, slots=True)
class Check:
    """One action to allow on one resource, with the resource policy and context that apply."""

    action: str
    resource: str
    policy: tuple[str, Mapping[str, Any]] | None = None
    context: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A candidate edge: where it leads, through which target, if every check is allowed."""

    to: str
    via: str
    checks: tuple[Check, ...]
    note: str = ""


def _customer_managed(arn: str) -> bool:
    return ":iam::aws:policy/" not in arn


def _iam(actions: tuple[str, ...], arn: str, trust: Check | None = None) -> tuple[Check, ...]:
    """Every action on one IAM ARN, `sts:AssumeRole` through the role's trust policy."""
    out = []
    for action in actions:
        if action.lower() == "sts:assumerole" and trust is not None:
            out.append(trust)
        else:
            out.append(Check(action, arn))
    return tuple(out)


def assume(role: Principal) -> Check:
    """`sts:AssumeRole` on a role, decided with its trust policy as the resource policy."""
    policy = (role.arn, role.trust) if role.trust is not None else None
    return Check("sts:AssumeRole", role.arn, policy)


def unbounded(principal: Principal) -> Principal:
    """The principal as it would be with its permissions boundary deleted."""
    return dataclasses.replace(principal, boundary=None, variant="unbounded")


# Models whose plans do not depend on the acting principal: built once per technique.
_STATIC = frozenset(
    {
        Model.USER_CREDS,
        Model.USER_REWRITE,
        Model.ROLE_TRUST,
        Model.PASS,
        Model.EXISTING,
        Model.ACCOUNT,
    }
)


class Planner:
    """Plans per (principal, technique); `trusted_by` and `assumable` come from the graph."""

    def __init__(self, estate: Estate, graph: Any) -> None:
        self.estate = estate
        self.graph = graph
        self.users = estate.users()
        self.roles = estate.roles()
        self._static: dict[str, dict[str, list[Plan]]] = {}
        self._common: dict[str, tuple[Check, ...]] = {}

    def common_checks(self, t: Technique) -> tuple[Check, ...]:
        """The checks every plan of a principal-independent technique shares (on `*`)."""
        if t.model not in _STATIC:
            return ()
        self._build_static(t)
        return self._common[t.id]

    def _build_static(self, t: Technique) -> dict[str, list[Plan]]:
        by_to = self._static.get(t.id)
        if by_to is None:
            by_to = {}
            for plan in self._plans(self._nobody, t):
                ordered = sorted(plan.checks, key=lambda c: c.resource != "*")
                plan = Plan(plan.to, plan.via, tuple(ordered), plan.note)
                by_to.setdefault(plan.to, []).append(plan)
            first = next((plans[0] for plans in by_to.values()), None)
            common = () if first is None else first.checks
            self._common[t.id] = tuple(
                c for c in common if c.resource == "*" and c.policy is None and c.context is None
            )
            self._static[t.id] = by_to
        return by_to

    def plans(self, p: Principal, t: Technique, targets: Mapping[str, object]) -> Iterator[Plan]:
        """The candidate edges of technique `t` from `p` that lead into `targets`."""
        if t.model in _STATIC:
            by_to = self._build_static(t)
            keys: Sequence[str] | Mapping[str, object] = (
                targets if len(targets) < len(by_to) else by_to
            )
            for to in keys:
                if to in targets:
                    for plan in by_to.get(to, ()):
                        if p.arn not in (plan.to, plan.via):
                            yield plan
        elif t.model is Model.ROLE_ASSUME:
            for q in self.graph.assumable(p):
                if q.arn in targets:
                    yield Plan(q.arn, q.arn, (assume(q),))
        elif ADMIN in targets:
            yield from self._plans(p, t)

    _nobody = Principal("", "nobody", "", "")

    def _plans(self, p: Principal, t: Technique) -> Iterator[Plan]:
        acts = t.actions
        m = t.model
        if (m is Model.SELF_USER and p.kind == "user") or (
            m is Model.SELF_ROLE and p.kind == "role"
        ):
            yield Plan(ADMIN, p.arn, _iam(acts, p.arn))
        elif m is Model.SELF_GROUP and p.kind == "user":
            for group in p.groups:
                yield Plan(ADMIN, group, _iam(acts, group))
        elif m is Model.SELF_POLICY:
            for policy in p.managed:
                if _customer_managed(policy):
                    yield Plan(ADMIN, policy, _iam(acts, policy))
        elif m is Model.SELF_UNBOUND and p.kind == "user" and p.boundary is not None:
            if self.graph.is_admin(unbounded(p)):
                yield Plan(ADMIN, p.arn, _iam(acts, p.arn), "admin once its boundary is gone")
        elif m is Model.JOIN_GROUP and p.kind == "user":
            yield from self._join_group(p, acts)
        elif m is Model.ACCOUNT:
            yield Plan(ADMIN, "*", tuple(Check(a, "*") for a in acts))
        elif m in (Model.USER_CREDS, Model.USER_REWRITE):
            to_admin = m is Model.USER_REWRITE
            for q in self.users:
                if q.arn != p.arn:
                    yield Plan(ADMIN if to_admin else q.arn, q.arn, _iam(acts, q.arn))
        elif m is Model.ROLE_TRUST:
            for q in self.roles:
                if q.arn != p.arn:
                    yield Plan(q.arn, q.arn, _iam(acts, q.arn))
        elif m is Model.ROLE_ASSUME:
            for q in self.graph.assumable(p):
                yield Plan(q.arn, q.arn, (assume(q),))
        elif m is Model.ROLE_REWRITE:
            yield from self._role_rewrite(p, acts)
        elif m is Model.ROLE_UNBOUND:
            for q in self.graph.assumable(p):
                if q.boundary is not None and self.graph.is_admin(unbounded(q)):
                    yield Plan(ADMIN, q.arn, _iam(acts, q.arn, assume(q)), "role unbounded")
        elif m is Model.PASS:
            yield from self._pass(p, t)
        elif m is Model.EXISTING:
            yield from self._existing(p, t)

    def _join_group(self, p: Principal, acts: tuple[str, ...]) -> Iterator[Plan]:
        for arn, group in sorted(self.estate.groups.items()):
            if arn in p.groups or not group.policies:
                continue
            joined = dataclasses.replace(
                p, policies=(*p.policies, *group.policies), variant=f"+{arn}"
            )
            if self.graph.is_admin(joined):
                yield Plan(ADMIN, arn, _iam(acts, arn), "the group's policies make it admin")

    def _role_rewrite(self, p: Principal, acts: tuple[str, ...]) -> Iterator[Plan]:
        lowered = {a.lower() for a in acts}
        needs_assume = "sts:assumerole" in lowered
        roles = self.graph.assumable(p) if needs_assume else self.roles
        for q in roles:
            if q.arn == p.arn:
                continue
            if "iam:createpolicyversion" in lowered:
                for policy in q.managed:
                    if not _customer_managed(policy):
                        continue
                    checks = tuple(
                        Check(a, policy)
                        if a.lower() == "iam:createpolicyversion"
                        else assume(q)
                        if a.lower() == "sts:assumerole"
                        else Check(a, q.arn)
                        for a in acts
                    )
                    yield Plan(ADMIN, q.arn, checks, f"through {policy}")
            else:
                yield Plan(ADMIN, q.arn, _iam(acts, q.arn, assume(q)))

    def _pass(self, p: Principal, t: Technique) -> Iterator[Plan]:
        seen: set[str] = set()
        for service in t.services:
            for role in self.graph.trusted_by(service):
                if role.arn == p.arn or role.arn in seen:
                    continue
                seen.add(role.arn)
                checks = []
                for action in t.actions:
                    lowered = action.lower()
                    if lowered == "iam:passrole":
                        ctx = {"iam:PassedToService": service}
                        checks.append(Check(action, role.arn, context=ctx))
                    elif lowered == "iam:addroletoinstanceprofile":
                        profile = f"arn:aws:iam::{role.account_id}:instance-profile/{role.name}"
                        checks.append(Check(action, profile))
                    else:
                        checks.append(Check(action, "*"))
                yield Plan(role.arn, role.arn, tuple(checks), f"passed to {service}")

    def _existing(self, p: Principal, t: Technique) -> Iterator[Plan]:
        for service in t.services:
            if service in COLLECTED_CARRIERS:
                for carrier in self.estate.carriers:
                    if carrier.service == service and carrier.role_arn != p.arn:
                        yield self._carrier_plan(t, carrier)
            else:
                note = f"assumes a resource of {service} runs with this role (not collected)"
                for role in self.graph.trusted_by(service):
                    if role.arn != p.arn:
                        checks = tuple(Check(a, "*") for a in t.actions)
                        yield Plan(role.arn, role.arn, checks, note)

    def _carrier_plan(self, t: Technique, carrier: Carrier) -> Plan:
        policy_doc = self.estate.resources.get(carrier.arn)
        policy = (carrier.arn, policy_doc.document) if policy_doc is not None else None
        checks = []
        for action in t.actions:
            lowered = action.lower()
            own = (carrier.service == "lambda.amazonaws.com" and lowered.startswith("lambda:")) or (
                carrier.service == "ec2.amazonaws.com" and lowered in _INSTANCE_ACTIONS
            )
            checks.append(Check(action, carrier.arn, policy) if own else Check(action, "*"))
        note = f"runs as it: {carrier.arn}" + (f" ({carrier.note})" if carrier.note else "")
        return Plan(carrier.role_arn, carrier.arn, tuple(checks), note)
