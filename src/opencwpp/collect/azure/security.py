"""Microsoft Defender for Cloud plans (pricings) of each subscription.

One row per plan (`VirtualMachines`, `SqlServers`, `StorageAccounts`, `KeyVaults`, `Arm`,
`Containers` …) with its pricing tier: `Free` means the plan is off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.azure import _clients
from opencwpp.collect.azure.base import AzureResource, Row, Rows, register, with_ids
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import JSON, table

PRICINGS = table(
    "azure_security_pricings",
    ["subscription_id", ("properties", JSON), "id", "name", "type"],
)


def transform_pricing(subscription_id: str, item: Mapping[str, Any]) -> Row:
    """A Defender plan (REST JSON of Pricings - List) as a row."""
    row: Row = {
        "subscription_id": subscription_id,
        "properties": item.get("properties") or {},
        "id": item.get("id"),
        "name": item.get("name"),
        "type": item.get("type"),
    }
    return with_ids(row)


def fetch_pricings(sub: SubscriptionContext) -> Rows:
    """The Defender for Cloud plans of the subscription."""
    operations = _clients.security(sub).pricings
    body = _clients.call_raw(operations.list, f"subscriptions/{sub.subscription_id}")
    items = [i for i in body.get("value") or [] if isinstance(i, Mapping)]
    return {PRICINGS: [transform_pricing(sub.subscription_id, i) for i in items]}


register(
    AzureResource(
        name="security.pricings",
        service="security",
        tables=(PRICINGS,),
        permissions=("Microsoft.Security/pricings/read",),
        fetch=fetch_pricings,
        description="Defender for Cloud plans and their pricing tier (Free = off).",
    )
)
