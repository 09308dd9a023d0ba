"""Classic subscription administrators (Service Administrator and Co-Administrators).

Read through ARM's `Microsoft.Authorization/classicAdministrators` list (API 2015-07-01).
Microsoft retired classic administrators in August 2024; a subscription that still lists a
Co-Administrator (or a Service Administrator other than the account owner) carries an
Owner-equivalent grant outside Azure RBAC. Where the retired API answers with an error, the
sync records it like any other refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.azure.base import AzureResource, Row, Rows, list_raw, register, with_ids
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import JSON, table

CLASSIC_ADMINS = table(
    "azure_authorization_classic_administrators",
    ["subscription_id", "id", "name", ("properties", JSON), "type"],
)


def transform_classic_admin(subscription_id: str, item: Mapping[str, Any]) -> Row:
    """A classic administrator (REST JSON) as a CloudQuery row."""
    row: Row = {
        "subscription_id": subscription_id,
        "id": item.get("id"),
        "name": item.get("name"),
        "properties": item.get("properties") or {},
        "type": item.get("type"),
    }
    return with_ids(row)


def fetch_classic_admins(sub: SubscriptionContext) -> Rows:
    """The classic administrators of the subscription."""
    items = list_raw(sub.authorization().classic_administrators.list)
    return {CLASSIC_ADMINS: [transform_classic_admin(sub.subscription_id, i) for i in items]}


register(
    AzureResource(
        name="authorization.classic_administrators",
        service="authorization",
        tables=(CLASSIC_ADMINS,),
        permissions=("Microsoft.Authorization/classicAdministrators/read",),
        fetch=fetch_classic_admins,
        description="Service Administrator and Co-Administrators (classic, retired in 2024).",
    )
)
