"""Microsoft Entra ID users, read through Microsoft Graph: who is a guest.

ARM's role assignments say a principal is a User, not whether that user is a guest from another
organisation; Graph's `userType` (Member / Guest) and `externalUserState` do. CloudQuery's Azure
source has no Graph tables, hence `cwpp_azure_entra_users`. The directory is the subscription's
tenant: read once per tenant (`GET /v1.0/users?$select=…`, following `@odata.nextLink`) and
stored for each subscription of it, so that a subscription's scope is complete on its own and a
refused read (403 Authorization_RequestDenied) makes exactly that subscription not assessed.
Only the selected, non-secret profile fields are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from opencwpp.collect.azure._graph import graph_client, list_graph
from opencwpp.collect.azure.base import AzureResource, Row, Rows, register, with_ids
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import BOOL, TIMESTAMP, table

ENTRA_USERS = table(
    "cwpp_azure_entra_users",
    [
        "subscription_id",
        "tenant_id",
        "id",
        "user_principal_name",
        "display_name",
        "user_type",
        "external_user_state",
        ("external_user_state_change_date_time", TIMESTAMP),
        ("account_enabled", BOOL),
        ("created_date_time", TIMESTAMP),
        "creation_type",
    ],
    cq_id_from=["subscription_id", "id"],
    description="Microsoft Entra ID users of the subscription's tenant (Microsoft Graph): "
    "user_type Member or Guest, invitation state, enabled; no credentials.",
    indexes=[("subscription_id", "id")],
)
_FIELDS = (
    "id",
    "userPrincipalName",
    "displayName",
    "userType",
    "externalUserState",
    "externalUserStateChangeDateTime",
    "accountEnabled",
    "createdDateTime",
    "creationType",
)
USERS_PATH = "/v1.0/users"
USERS_QUERY = {"$select": ",".join(_FIELDS), "$top": "999"}


def _time(value: Any) -> datetime | None:
    """A Graph time (`2024-01-02T03:04:05Z`); None when absent or not a time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def transform_user(subscription_id: str, tenant_id: str, item: Mapping[str, Any]) -> Row:
    """A Graph user (REST JSON) as a row; fields beyond the selected ones are never kept."""
    enabled = item.get("accountEnabled")
    row: Row = {
        "subscription_id": subscription_id,
        "tenant_id": tenant_id or None,
        "id": _text(item.get("id")),
        "user_principal_name": _text(item.get("userPrincipalName")),
        "display_name": _text(item.get("displayName")),
        "user_type": _text(item.get("userType")),
        "external_user_state": _text(item.get("externalUserState")),
        "external_user_state_change_date_time": _time(item.get("externalUserStateChangeDateTime")),
        "account_enabled": enabled if isinstance(enabled, bool) else None,
        "created_date_time": _time(item.get("createdDateTime")),
        "creation_type": _text(item.get("creationType")),
    }
    return with_ids(row, ("subscription_id", "id"))


def tenant_users(sub: SubscriptionContext) -> tuple[str, list[Row]]:
    """The subscription's tenant id and its directory's users (Graph JSON), read once a tenant."""
    tenant = str(sub.subscription.get("tenantId") or "")

    def load() -> list[Row]:
        client = graph_client(sub.azure, tenant)
        try:
            return list(list_graph(client, USERS_PATH, USERS_QUERY))
        finally:
            client.close()

    return tenant, sub.tenant_shared.get(f"users/{tenant}", load)


def fetch_users(sub: SubscriptionContext) -> Rows:
    """The users of the subscription's tenant, as rows of this subscription."""
    tenant, items = tenant_users(sub)
    rows = [transform_user(sub.subscription_id, tenant, i) for i in items if i.get("id")]
    # A user listed twice (a page boundary moving under us) is one row.
    return {ENTRA_USERS: list({r["_cq_id"]: r for r in rows}.values())}


register(
    AzureResource(
        name="entra.users",
        service="entra",
        tables=(ENTRA_USERS,),
        permissions=(),
        graph_permissions=("User.Read.All",),
        fetch=fetch_users,
        description="Entra ID users of the subscription's tenant: member or guest (Graph).",
    )
)
