"""The privilege-escalation graph: edges where a technique is possible, shortest paths to admin.

An edge exists only when the evaluator allows every required action on the concrete target, so
conditions, permissions boundaries and SCPs apply. A principal is admin when it is allowed
everything (`ADMIN_PROBES`, among them an action of a service no policy names, which only `*`
covers); a principal that can rewrite its own permissions has an edge to ADMIN. Work is bounded by
the action index: a technique is tried only when the principal's identity policies could allow its
actions, and `sts:AssumeRole` only on the roles whose trust policy names it or its account.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opencwpp.iam.access import ADMIN_PROBES, Access, statement_refs
from opencwpp.iam.estate import Estate, Principal
from opencwpp.iam.evaluator import evaluate
from opencwpp.iam.model import Origin, PolicySet, Request, Source, parse_policy
from opencwpp.iam.privesc.targets import ADMIN, Plan, Planner
from opencwpp.iam.privesc.techniques import TECHNIQUES, Model, Technique

_SELF_FIRST = {Model.SELF_USER: 0, Model.SELF_ROLE: 0, Model.SELF_GROUP: 0, Model.SELF_POLICY: 0}


@dataclass(frozen=True, slots=True)
class Edge:
    """One possible step: `source` becomes `target` (a principal ARN or ADMIN) by `technique`."""

    source: str
    target: str
    technique: Technique
    via: str
    steps: tuple[dict[str, Any], ...]  # per action: resource, decision reasons, statements
    note: str = ""


class Graph:
    """Builds the edges of the estate for a set of techniques."""

    def __init__(self, estate: Estate, techniques: Iterable[Technique] = TECHNIQUES) -> None:
        self.estate = estate
        self.techniques = sorted(techniques, key=lambda t: (_SELF_FIRST.get(t.model, 1), t.id))
        actions = {a for t in self.techniques for a in t.actions} | set(ADMIN_PROBES)
        self.access = Access(estate, actions)
        self.edges: dict[str, list[Edge]] = {}
        self._trusted: dict[str, list[Principal]] = {}
        self._named, self._by_account = self._trust_index()
        self.evaluated_plans = 0
        self._needed = {t.id: self._identity_needed(t) for t in self.techniques}
        self.layers = 0

    def is_admin(self, p: Principal) -> bool:
        """Whether the principal is allowed everything (on `*`)."""
        return self.access.is_admin(p)

    def _trust_index(self) -> tuple[dict[str, list[Principal]], dict[str, list[Principal]]]:
        named: dict[str, list[Principal]] = {}
        by_account: dict[str, list[Principal]] = {}
        for role in self.estate.roles():
            if role.trust is None:
                continue
            for stmt in parse_policy(dict(role.trust), Origin(Source.RESOURCE)):
                values = ("*",) if stmt.principal is None else (stmt.principal or {}).get("AWS", ())
                for value in values:
                    if value == "*":
                        by_account.setdefault("*", []).append(role)
                    elif value.isdigit() or value.endswith(":root"):
                        account = value if value.isdigit() else value.split(":")[4]
                        by_account.setdefault(account, []).append(role)
                    else:
                        named.setdefault(value, []).append(role)
        return named, by_account

    def assumable(self, p: Principal) -> list[Principal]:
        """Roles whose trust policy could let `p` assume them (the evaluator decides)."""
        found = dict.fromkeys(r.arn for r in self._named.get(p.arn, ()))
        if self.access.covers(p, ("sts:AssumeRole",)):
            for key in (p.account_id, "*"):
                found.update(dict.fromkeys(r.arn for r in self._by_account.get(key, ())))
        return [self.estate.principals[a] for a in found if a != p.arn]

    def trusted_by(self, service: str) -> list[Principal]:
        """Roles whose trust policy lets the service assume them."""
        found = self._trusted.get(service)
        if found is None:
            found = []
            for role in self.estate.roles():
                text = str(role.trust)
                if role.trust is None or (service not in text and "'*'" not in text):
                    continue
                policies = PolicySet(resource=dict(role.trust))
                request = Request(service, "sts:AssumeRole", role.arn, role.account_id)
                if evaluate(policies, request).allowed:
                    found.append(role)
            self._trusted[service] = found
        return found

    def _try(self, p: Principal, t: Technique, plan: Plan) -> Edge | None:
        self.evaluated_plans += 1
        steps = []
        for check in plan.checks:
            decision = self.access.decide(
                p, check.action, check.resource, resource_policy=check.policy, context=check.context
            )
            if not decision.allowed:
                return None
            steps.append(
                {
                    "action": check.action,
                    "resource": check.resource,
                    "reasons": list(decision.reasons),
                    "statements": statement_refs(p, decision),
                }
            )
        return Edge(p.arn, plan.to, t, plan.via, tuple(steps), plan.note)

    def _identity_needed(self, t: Technique) -> tuple[str, ...]:
        skip = {"sts:assumerole"}
        if t.model is Model.EXISTING:
            skip |= {a.lower() for a in t.actions if a.lower().startswith("lambda:")}
        return tuple(a for a in t.actions if a.lower() not in skip)

    def _first_edge(self, planner: Planner, p: Principal, layer: dict[str, None]) -> Edge | None:
        for t in self.techniques:
            if not self.access.covers(p, self._needed[t.id]):
                continue
            common = planner.common_checks(t)
            if not all(self.access.allowed(p, c.action, c.resource) for c in common):
                continue
            for plan in planner.plans(p, t, layer):
                edge = self._try(p, t, plan)
                if edge is not None:
                    return edge
        return None

    def build(self) -> None:
        """Finds each principal's first step on a shortest path to admin, layer by layer.

        Layer 0 is ADMIN and the admin principals; layer k the principals with an edge into
        layer k-1. Only edges into the previous layer are tried, so a principal's edge found at
        layer k is the first step of a shortest path, and no edge that cannot lead to admin is
        ever evaluated.
        """
        planner = Planner(self.estate, self)
        ordered = [self.estate.principals[a] for a in sorted(self.estate.principals)]
        layer: dict[str, None] = {ADMIN: None}
        layer.update((p.arn, None) for p in ordered if self.is_admin(p))
        remaining = [p for p in ordered if p.arn not in layer]
        self.layers = 0
        while layer and remaining:
            found: dict[str, None] = {}
            for p in remaining:
                edge = self._first_edge(planner, p, layer)
                if edge is not None:
                    self.edges[p.arn] = [edge]
                    found[p.arn] = None
            remaining = [p for p in remaining if p.arn not in found]
            layer = found
            self.layers += 1

    def shortest_paths(self) -> dict[str, list[Edge]]:
        """For every non-admin principal that can reach admin: its shortest path (edges)."""
        reverse: dict[str, list[Edge]] = {}
        for edges in self.edges.values():
            for edge in edges:
                reverse.setdefault(edge.target, []).append(edge)
        admins = [a for a, p in self.estate.principals.items() if self.is_admin(p)]
        next_hop: dict[str, Edge | None] = {a: None for a in [ADMIN, *admins]}
        queue = deque(next_hop)
        while queue:
            node = queue.popleft()
            for edge in reverse.get(node, ()):
                if edge.source not in next_hop:
                    next_hop[edge.source] = edge
                    queue.append(edge.source)
        paths: dict[str, list[Edge]] = {}
        for source, first in next_hop.items():
            if first is None:
                continue
            path: list[Edge] = []
            hop: Edge | None = first
            while hop is not None:
                path.append(hop)
                hop = next_hop.get(hop.target)
            paths[source] = path
        return paths
