"""Subscriptions: one row per synced subscription, from the listing the sync already made."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.azure.base import AzureResource, Row, Rows, register, with_ids
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import JSON, table

SUBSCRIPTIONS = table(
    "azure_subscription_subscriptions",
    [
        "authorization_source",
        ("managed_by_tenants", JSON),
        ("subscription_policies", JSON),
        ("tags", JSON),
        "display_name",
        "id",
        "state",
        "subscription_id",
        "tenant_id",
    ],
)


def transform_subscription(item: Mapping[str, Any]) -> Row:
    """A subscription (REST JSON of Subscriptions - List) as a CloudQuery row."""
    row: Row = {
        "authorization_source": item.get("authorizationSource"),
        "managed_by_tenants": item.get("managedByTenants") or [],
        "subscription_policies": item.get("subscriptionPolicies") or {},
        "tags": item.get("tags") or {},
        "display_name": item.get("displayName"),
        "id": item.get("id") or f"/subscriptions/{item.get('subscriptionId')}",
        "state": item.get("state"),
        "subscription_id": item.get("subscriptionId"),
        "tenant_id": item.get("tenantId"),
    }
    return with_ids(row)


def fetch_subscription(sub: SubscriptionContext) -> Rows:
    """The subscription's own row (listed once by the sync, no further call)."""
    return {SUBSCRIPTIONS: [transform_subscription(sub.subscription)]}


register(
    AzureResource(
        name="subscription.subscriptions",
        service="subscription",
        tables=(SUBSCRIPTIONS,),
        permissions=("Microsoft.Resources/subscriptions/read",),
        fetch=fetch_subscription,
        description="The subscriptions the credential can see.",
    )
)
