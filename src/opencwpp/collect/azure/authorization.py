"""Azure RBAC: role assignments (every scope in the subscription) and role definitions.

Role assignments are listed for the subscription, which returns those at the subscription,
resource group and resource scopes, plus the ones inherited from management groups and the
root. Role definitions (built-in and custom, the Storage Blob Data roles among them) are
listed at the subscription scope. Their permission lists and assignable scopes are also split
into rows (`cwpp_azure_role_definition_actions`, `cwpp_azure_role_definition_scopes`) so that
checks never walk JSON arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.azure.base import AzureResource, Row, Rows, list_raw, register, with_ids
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import INT64, JSON, table

ROLE_ASSIGNMENTS = table(
    "azure_authorization_role_assignments",
    ["subscription_id", ("properties", JSON), "id", "name", "type"],
)
ROLE_DEFINITIONS = table(
    "azure_authorization_role_definitions",
    ["subscription_id", ("properties", JSON), "id", "name", "type"],
)
ROLE_ACTIONS = table(
    "cwpp_azure_role_definition_actions",
    [
        "subscription_id",
        "role_definition_id",
        "role_name",
        "role_type",
        ("permission_index", INT64),
        "kind",
        "action",
    ],
    cq_id_from=["subscription_id", "role_definition_id", "permission_index", "kind", "action"],
    parent="azure_authorization_role_definitions",
    description="One row per action of a role definition: kind is Actions, NotActions, "
    "DataActions or NotDataActions; permission_index says which permission block it is in.",
)
ROLE_SCOPES = table(
    "cwpp_azure_role_definition_scopes",
    ["subscription_id", "role_definition_id", "role_name", "role_type", "assignable_scope"],
    cq_id_from=["subscription_id", "role_definition_id", "assignable_scope"],
    parent="azure_authorization_role_definitions",
    description="One row per assignable scope of a role definition.",
)
_KINDS = ("actions", "notActions", "dataActions", "notDataActions")


def transform_assignment(subscription_id: str, item: Mapping[str, Any]) -> Row:
    """A role assignment (REST JSON) as a CloudQuery row."""
    row: Row = {
        "subscription_id": subscription_id,
        "properties": item.get("properties") or {},
        "id": item.get("id"),
        "name": item.get("name"),
        "type": item.get("type"),
    }
    return with_ids(row, ("subscription_id", "id"))


def transform_definition(subscription_id: str, item: Mapping[str, Any]) -> Rows:
    """A role definition as its CloudQuery row plus its split action and scope rows."""
    properties = item.get("properties") or {}
    row: Row = with_ids(
        {
            "subscription_id": subscription_id,
            "properties": properties,
            "id": item.get("id"),
            "name": item.get("name"),
            "type": item.get("type"),
        }
    )
    common = {
        "subscription_id": subscription_id,
        "role_definition_id": row["id"],
        "role_name": properties.get("roleName"),
        "role_type": properties.get("type"),
    }
    actions: list[Row] = []
    for index, permission in enumerate(properties.get("permissions") or []):
        for kind in _KINDS:
            # A repeated action adds nothing and would repeat the row's id.
            for action in dict.fromkeys(str(a) for a in permission.get(kind) or []):
                entry = {**common, "permission_index": index, "kind": kind[0].upper() + kind[1:]}
                entry["action"] = action
                actions.append(with_ids(entry, ROLE_ACTIONS.cq_id_from, row))
    scopes = [
        with_ids({**common, "assignable_scope": scope}, ROLE_SCOPES.cq_id_from, row)
        for scope in dict.fromkeys(str(s) for s in properties.get("assignableScopes") or [])
    ]
    return {ROLE_DEFINITIONS: [row], ROLE_ACTIONS: actions, ROLE_SCOPES: scopes}


def fetch_assignments(sub: SubscriptionContext) -> Rows:
    """Every role assignment that applies within the subscription."""
    items = list_raw(sub.authorization().role_assignments.list_for_subscription)
    return {ROLE_ASSIGNMENTS: [transform_assignment(sub.subscription_id, i) for i in items]}


def fetch_definitions(sub: SubscriptionContext) -> Rows:
    """Role definitions available at the subscription scope, split into action rows."""
    scope = f"/subscriptions/{sub.subscription_id}"
    out: Rows = {ROLE_DEFINITIONS: [], ROLE_ACTIONS: [], ROLE_SCOPES: []}
    for item in list_raw(sub.authorization().role_definitions.list, scope):
        for tbl, rows in transform_definition(sub.subscription_id, item).items():
            out[tbl] += rows
    return out


register(
    AzureResource(
        name="authorization.role_assignments",
        service="authorization",
        tables=(ROLE_ASSIGNMENTS,),
        permissions=("Microsoft.Authorization/roleAssignments/read",),
        fetch=fetch_assignments,
        description="Role assignments at subscription, resource group and resource scopes.",
    )
)
register(
    AzureResource(
        name="authorization.role_definitions",
        service="authorization",
        tables=(ROLE_DEFINITIONS, ROLE_ACTIONS, ROLE_SCOPES),
        permissions=("Microsoft.Authorization/roleDefinitions/read",),
        fetch=fetch_definitions,
        description="Built-in and custom role definitions, with their actions split into rows.",
    )
)
