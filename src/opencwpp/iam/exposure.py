"""Public and cross-account exposure of a resource policy, judged through the evaluator.

The policy is evaluated for an anonymous caller, for an unknown foreign account (whose own
identity policies allow everything) and for each foreign account it names, over the service's
sensitive actions from the catalog. Conditions on keys a caller cannot choose (organisation, VPC
endpoint, source ARN / account, source IP, principal identity) count as restricting: the probe does
not carry them. Conditions on keys a caller controls (TLS, MFA, request tags …) are assumed met for
Allow statements and avoidable for Deny statements.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opencwpp.iam.catalog import sensitive_actions
from opencwpp.iam.evaluator import evaluate
from opencwpp.iam.model import Document, PolicyError, PolicySet, Request

RESTRICTING_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:userid",
        "aws:username",
        "aws:sourcevpce",
        "aws:sourcevpc",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceip",
        "aws:vpcsourceip",
        "aws:principalservicename",
        "kms:calleraccount",
        "kms:viaservice",
    }
)
_RESTRICTING_PREFIXES = ("aws:principaltag/",)
UNKNOWN_ACCOUNT = "999999999999"
_ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_TRUST_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")


@dataclass(frozen=True)
class Access:
    """Who can do what, and the statements that let them."""

    who: str
    actions: tuple[str, ...]
    statements: tuple[str, ...]


def _restricting(key: str) -> bool:
    lowered = key.lower()
    return lowered in RESTRICTING_KEYS or lowered.startswith(_RESTRICTING_PREFIXES)


def _attacker_view(policy: Document) -> dict[str, Any]:
    """The policy as a caller who controls every non-restricting condition key sees it."""
    doc = json.loads(policy) if isinstance(policy, str) else copy.deepcopy(dict(policy))
    raw = doc.get("Statement", [])
    statements = raw if isinstance(raw, list) else [raw]
    kept = []
    for stmt in statements:
        block = stmt.get("Condition") if isinstance(stmt, dict) else None
        if not isinstance(block, dict):
            kept.append(stmt)
            continue
        restricting = {
            op: {k: v for k, v in keys.items() if _restricting(k)}
            for op, keys in block.items()
            if isinstance(keys, dict)
        }
        restricting = {op: keys for op, keys in restricting.items() if keys}
        loose = any(not _restricting(k) for keys in block.values() for k in keys)
        if stmt.get("Effect") == "Deny" and loose:
            continue  # the caller can step around a deny that depends on what it sends
        kept.append({**stmt, "Condition": restricting})
    doc["Statement"] = kept
    return doc


def _default_actions(resource_arn: str) -> tuple[str, ...]:
    if ":role/" in resource_arn and resource_arn.split(":")[2] == "iam":
        return _TRUST_ACTIONS
    parts = resource_arn.split(":")
    if len(parts) < 6:
        raise PolicyError(f"resource {resource_arn!r} is not an ARN")
    return sensitive_actions(parts[2])


def _probe(
    policies: PolicySet,
    principal: str,
    resource_arn: str,
    resource_account: str,
    actions: Iterable[str],
    who: str,
    role_arn: str | None = None,
) -> Access | None:
    allowed: list[str] = []
    labels: dict[str, None] = {}
    for action in actions:
        request = Request(principal, action, resource_arn, resource_account, role_arn)
        decision = evaluate(policies, request)
        if decision.allowed:
            allowed.append(action)
            labels.update((s.statement.label, None) for s in decision.statements)
    return Access(who, tuple(allowed), tuple(labels)) if allowed else None


def is_public(
    resource_policy: Document,
    resource_arn: str,
    resource_account: str,
    actions: Iterable[str] | None = None,
) -> list[Access]:
    """Access for anyone: the anonymous caller, and any principal of any AWS account."""
    acts = tuple(actions) if actions is not None else _default_actions(resource_arn)
    found = []
    anon = PolicySet(resource=_attacker_view(resource_policy))
    hit = _probe(anon, "anonymous", resource_arn, resource_account, acts, "anyone (anonymous)")
    if hit:
        found.append(hit)
    foreign = PolicySet(identity=[_ADMIN], resource=_attacker_view(resource_policy))
    probe = f"arn:aws:iam::{UNKNOWN_ACCOUNT}:user/cwpp-probe"
    hit = _probe(foreign, probe, resource_arn, resource_account, acts, "any AWS account")
    if hit:
        found.append(hit)
    return found


def _named_accounts(policy: Mapping[str, Any]) -> set[str]:
    raw = policy.get("Statement", [])
    out: set[str] = set()
    for stmt in raw if isinstance(raw, list) else [raw]:
        principal = stmt.get("Principal") if isinstance(stmt, dict) else None
        values = principal.get("AWS", []) if isinstance(principal, dict) else []
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and value.isdigit() and len(value) == 12:
                out.add(value)
            elif isinstance(value, str) and value.startswith("arn:") and value.count(":") >= 5:
                out.add(value.split(":")[4])
    return out


def foreign_access(
    resource_policy: Document,
    resource_arn: str,
    resource_account: str,
    actions: Iterable[str] | None = None,
    trusted_accounts: Iterable[str] = (),
) -> list[Access]:
    """Access from outside: any AWS account, then each named account not trusted or our own."""
    acts = tuple(actions) if actions is not None else _default_actions(resource_arn)
    found = is_public(resource_policy, resource_arn, resource_account, acts)
    doc = _attacker_view(resource_policy)
    skip = {resource_account, UNKNOWN_ACCOUNT, *trusted_accounts}
    policies = PolicySet(identity=[_ADMIN], resource=doc)
    for account in sorted(_named_accounts(doc) - skip):
        callers: list[tuple[str, str | None]] = [(f"arn:aws:iam::{account}:root", None)]
        callers += _named_principals(doc, account)
        allowed: dict[str, None] = {}
        labels: dict[str, None] = {}
        for caller, role in callers:
            hit = _probe(policies, caller, resource_arn, resource_account, acts, "", role)
            if hit:
                allowed.update(dict.fromkeys(hit.actions))
                labels.update(dict.fromkeys(hit.statements))
        if allowed:
            found.append(Access(f"account {account}", tuple(allowed), tuple(labels)))
    return found


def _named_principals(policy: Mapping[str, Any], account: str) -> list[tuple[str, str | None]]:
    """Users and role sessions a policy names in one account, as probe callers."""
    out: list[tuple[str, str | None]] = []
    raw = policy.get("Statement", [])
    for stmt in raw if isinstance(raw, list) else [raw]:
        principal = stmt.get("Principal") if isinstance(stmt, dict) else None
        values = principal.get("AWS", []) if isinstance(principal, dict) else []
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, str) or f":{account}:" not in value:
                continue
            if ":user/" in value:
                out.append((value, None))
            elif ":role/" in value:
                name = value.rsplit("/", 1)[-1]
                out.append((f"arn:aws:sts::{account}:assumed-role/{name}/cwpp-probe", value))
    return out
