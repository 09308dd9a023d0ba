"""Azure RBAC over the lake: role definitions, role assignments and which scopes they cover.

Read from the collected tables (`azure_authorization_role_assignments`, the split
`cwpp_azure_role_definition_actions`), never from Azure. A role grants an action when one of its
permission blocks lists a matching pattern in `actions` (or `dataActions`) and no matching one in
the same block's `notActions` (`notDataActions`); patterns are case-insensitive, `*` matches any
run of characters, as Azure evaluates them. Deny assignments are not collected, so a grant here
may still be denied in Azure: the answer errs towards "can".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from opencwpp.lake import Lake

MANAGEMENT_GROUPS = "/providers/microsoft.management/managementgroups/"


@lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(p) for p in pattern.lower().split("*"))
    return re.compile(".*".join(parts), re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an RBAC action pattern (`*` wildcards, any case) names `action`."""
    return _pattern(pattern).fullmatch(action.lower()) is not None


@dataclass(frozen=True, slots=True)
class Permission:
    """One permission block of a role definition."""

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()

    def grants(self, action: str, data: bool) -> bool:
        """Whether this block grants `action` (a data action when `data`)."""
        allow, deny = (
            (self.data_actions, self.not_data_actions) if data else (self.actions, self.not_actions)
        )
        return any(action_matches(p, action) for p in allow) and not any(
            action_matches(p, action) for p in deny
        )


@dataclass(frozen=True, slots=True)
class Role:
    """A role definition, known by its GUID (the same in every subscription of a tenant)."""

    guid: str
    name: str
    permissions: tuple[Permission, ...]

    def grants(self, action: str, data: bool) -> bool:
        """Whether any permission block grants `action`."""
        return any(p.grants(action, data) for p in self.permissions)


@dataclass(frozen=True, slots=True)
class Assignment:
    """A role assignment: who holds which role at which scope (and under which condition)."""

    id: str
    subscription_id: str
    principal_id: str
    principal_type: str
    role_guid: str
    scope: str
    condition: str | None = None


@dataclass
class Rbac:
    """Every role and role assignment in the lake, and what could not be resolved."""

    roles: dict[str, Role] = field(default_factory=dict)
    assignments: list[Assignment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def role_of(self, assignment: Assignment) -> Role | None:
        """The assignment's role definition, or None (with a warning kept) when not collected."""
        role = self.roles.get(assignment.role_guid)
        if role is None:
            note = f"{assignment.id}: role definition {assignment.role_guid} not in the lake"
            if note not in self.warnings:
                self.warnings.append(note)
        return role


def guid_of(role_definition_id: str) -> str:
    """The GUID that ends a role definition id, lower-cased."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def scope_covers(assignment: Assignment, resource_id: str, subscription_id: str) -> bool:
    """Whether an assignment's scope contains the resource.

    A management group (or root `/`) assignment was listed for a subscription only because it
    applies there (the hierarchy itself is not collected), so it covers that subscription's
    resources.
    """
    scope = assignment.scope.lower().rstrip("/")
    if scope == "" or scope.startswith(MANAGEMENT_GROUPS):
        return assignment.subscription_id.lower() == subscription_id.lower()
    resource = resource_id.lower().rstrip("/")
    return resource == scope or resource.startswith(scope + "/")


def _roles(lake: Lake) -> dict[str, Role]:
    if not lake.table_exists("cwpp_azure_role_definition_actions"):
        return {}
    rows = lake.query(
        "SELECT role_definition_id, role_name, permission_index, kind, action "
        "FROM cwpp_azure_role_definition_actions"
    )
    names: dict[str, str] = {}
    blocks: dict[tuple[str, int], dict[str, list[str]]] = {}
    for row in rows:
        guid = guid_of(str(row["role_definition_id"]))
        names[guid] = str(row["role_name"] or guid)
        block = blocks.setdefault((guid, int(row["permission_index"])), {})
        block.setdefault(str(row["kind"]).lower(), []).append(str(row["action"]))
    perms: dict[str, list[Permission]] = {}
    for (guid, _), block in sorted(blocks.items()):
        perms.setdefault(guid, []).append(
            Permission(
                tuple(block.get("actions", ())),
                tuple(block.get("notactions", ())),
                tuple(block.get("dataactions", ())),
                tuple(block.get("notdataactions", ())),
            )
        )
    return {guid: Role(guid, names[guid], tuple(p)) for guid, p in perms.items()}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _assignments(lake: Lake) -> list[Assignment]:
    if not lake.table_exists("azure_authorization_role_assignments"):
        return []
    rows = lake.query(
        "SELECT id, subscription_id, properties->>'$.principalId' AS principal_id, "
        "properties->>'$.principalType' AS principal_type, "
        "properties->>'$.roleDefinitionId' AS role_definition_id, "
        "properties->>'$.scope' AS scope, properties->>'$.condition' AS condition "
        "FROM azure_authorization_role_assignments"
    )
    out: dict[tuple[str, str], Assignment] = {}
    for row in rows:
        item = Assignment(
            id=_text(row["id"]),
            subscription_id=_text(row["subscription_id"]),
            principal_id=_text(row["principal_id"]),
            principal_type=_text(row["principal_type"]) or "Unknown",
            role_guid=guid_of(_text(row["role_definition_id"])),
            scope=_text(row["scope"]),
            condition=row["condition"] or None,
        )
        out[(item.id.lower(), item.subscription_id.lower())] = item
    return [out[k] for k in sorted(out)]


def load_rbac(lake: Lake) -> Rbac:
    """The collected role definitions and assignments."""
    return Rbac(roles=_roles(lake), assignments=_assignments(lake))


def holders(
    rbac: Rbac, action: str, data: bool, resource_id: str, subscription_id: str
) -> Iterable[tuple[Assignment, Role]]:
    """The assignments whose scope covers the resource and whose role grants `action`."""
    for assignment in rbac.assignments:
        if not scope_covers(assignment, resource_id, subscription_id):
            continue
        role = rbac.role_of(assignment)
        if role is not None and role.grants(action, data):
            yield assignment, role
