"""Every technique of the shared catalog: the edge appears when its actions are allowed, and
disappears when a condition, a permissions boundary or an SCP denies one of them.

Cases are generated from `shared/data/iam/privesc-techniques.json` (107 x appears / disappears);
our own definitions must cover each of them with the same required actions.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from opencwpp.iam.estate import Carrier, Estate, Group, PolicyDoc, Principal
from opencwpp.iam.privesc import TECHNIQUES, Graph, Model, technique
from tests.conftest import require_shared, shared_data_dir

A = "111122223333"
CATALOG = shared_data_dir() / "iam" / "privesc-techniques.json"
ENTRIES: list[dict[str, Any]] = (
    json.loads(CATALOG.read_text())["techniques"] if CATALOG.exists() else []
)
SERVICES = sorted({s for t in TECHNIQUES for s in t.services})
ATTACKER_USER = f"arn:aws:iam::{A}:user/attacker"
ATTACKER_ROLE = f"arn:aws:iam::{A}:role/attacker-role"
TARGET_ROLE = f"arn:aws:iam::{A}:role/target-role"
VICTIM = f"arn:aws:iam::{A}:user/victim"
CAPPED_ROLE = f"arn:aws:iam::{A}:role/capped-role"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: Any, resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


ADMIN = PolicyDoc("arn:aws:iam::aws:policy/AdministratorAccess", doc(allow("*")))


def estate(
    tech_id: str,
    grants: list[dict[str, Any]],
    boundary: dict[str, Any] | None = None,
    scp: list[list[dict[str, Any]]] | None = None,
) -> tuple[Estate, str]:
    """An account where the attacker holds `grants` and every kind of target exists."""
    tech = technique(tech_id)
    e = Estate(scp=scp)
    managed = f"arn:aws:iam::{A}:policy/attacker-managed"
    e.managed[managed] = doc(*grants)
    granted = [PolicyDoc(managed, e.managed[managed])]
    bound = PolicyDoc(f"arn:aws:iam::{A}:policy/boundary", boundary) if boundary else None
    if tech.model is Model.SELF_UNBOUND:
        # Admin by its identity policies, capped by a boundary that only grants the technique.
        granted.append(ADMIN)
        bound = bound or PolicyDoc(f"arn:aws:iam::{A}:policy/boundary", doc(*grants))
    group_arn = f"arn:aws:iam::{A}:group/attacker-group"
    e.groups[group_arn] = Group(group_arn, A, "attacker-group", (), ())
    admins = f"arn:aws:iam::{A}:group/admins"
    e.groups[admins] = Group(admins, A, "admins", (ADMIN,), (ADMIN.ref,))
    if tech.model is Model.SELF_ROLE:
        attacker = Principal(
            ATTACKER_ROLE, "role", A, "attacker-role", tuple(granted), bound, (), (managed,)
        )
    else:
        attacker = Principal(
            ATTACKER_USER, "user", A, "attacker", tuple(granted), bound, (group_arn,), (managed,)
        )
    e.principals[attacker.arn] = attacker
    # Every target is admin: the graph searches edges towards principals that reach admin.
    e.principals[VICTIM] = Principal(VICTIM, "user", A, "victim", (ADMIN,))
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root", "Service": SERVICES},
            "Action": "sts:AssumeRole",
        }
    )
    target_managed = f"arn:aws:iam::{A}:policy/target-managed"
    e.managed[target_managed] = doc(allow("s3:ListAllMyBuckets"))
    policies = (ADMIN, PolicyDoc(target_managed, e.managed[target_managed]))
    managed_arns = (ADMIN.ref, target_managed)
    e.principals[TARGET_ROLE] = Principal(
        TARGET_ROLE, "role", A, "target-role", policies, None, (), managed_arns, trust
    )
    cap = PolicyDoc(f"arn:aws:iam::{A}:policy/cap", doc(allow("s3:ListAllMyBuckets")))
    e.principals[CAPPED_ROLE] = Principal(
        CAPPED_ROLE, "role", A, "capped-role", policies, cap, (), managed_arns, trust
    )
    e.carriers += [
        Carrier(f"arn:aws:lambda:eu-west-1:{A}:function:f", TARGET_ROLE, "lambda.amazonaws.com"),
        Carrier(f"arn:aws:ec2:eu-west-1:{A}:instance/i-1", TARGET_ROLE, "ec2.amazonaws.com"),
    ]
    return e, attacker.arn


def techniques_used(e: Estate, attacker: str, tech_id: str) -> set[str]:
    graph = Graph(e, [technique(tech_id)])
    graph.build()
    return {edge.technique.id for edge in graph.edges.get(attacker, [])}


def test_the_shared_catalog_is_there_and_fully_covered() -> None:
    require_shared("iam")
    assert len(ENTRIES) == 107
    assert {e["id"] for e in ENTRIES} == {t.id for t in TECHNIQUES}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_our_definition_matches_the_catalog(entry: dict[str, Any]) -> None:
    ours = technique(entry["id"])
    assert sorted(ours.actions) == sorted(entry["required_actions"])
    assert set(entry["trusted_service_principals"]) <= set(ours.services)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_edge_appears_when_every_action_is_allowed(entry: dict[str, Any]) -> None:
    e, attacker = estate(entry["id"], [allow(entry["required_actions"])])
    assert techniques_used(e, attacker, entry["id"]) == {entry["id"]}


WAYS = ("condition", "boundary", "scp")


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_edge_disappears_when_one_action_is_denied(entry: dict[str, Any]) -> None:
    index = ENTRIES.index(entry)
    actions: list[str] = entry["required_actions"]
    denied = actions[index % len(actions)]
    rest = [a for a in actions if a != denied]
    way = WAYS[index % len(WAYS)]
    grants = [allow(actions)]
    boundary = scp = None
    if way == "condition":
        # A deny whose condition holds for the attacker (its principal ARN is in the account).
        principal = {"StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:*"}}
        grants.append({"Effect": "Deny", "Action": denied, "Resource": "*", "Condition": principal})
    elif way == "boundary":
        boundary = doc(allow([*rest, "s3:ListAllMyBuckets"]))
    else:
        scp = [[doc(allow("*"), {"Effect": "Deny", "Action": denied, "Resource": "*"})]]
    e, attacker = estate(entry["id"], grants, boundary, scp)
    assert techniques_used(e, attacker, entry["id"]) == set(), f"{way} denying {denied}"


def test_a_condition_that_does_not_hold_denies_nothing() -> None:
    """The near miss: a deny conditioned on another account leaves the edge in place."""
    other = {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::999999999999:*"}}
    grants = [
        allow(["iam:PassRole", "ec2:RunInstances"]),
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*", "Condition": other},
    ]
    e, attacker = estate("ec2-001", grants)
    assert techniques_used(e, attacker, "ec2-001") == {"ec2-001"}
