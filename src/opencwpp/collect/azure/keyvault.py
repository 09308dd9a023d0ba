"""Key Vaults, and the metadata of their keys and secrets (management plane only).

Vaults carry soft delete, purge protection, the permission model (RBAC or access policies),
public network access and network rules. Keys and secrets are listed through Azure Resource
Manager, which returns their attributes (enabled, expiry, dates) and never a secret's value; a
`value` field is dropped all the same, so no answer can put one in the lake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.azure.base import (
    AzureResource,
    Row,
    Rows,
    list_raw,
    register,
    resource_group_of,
    with_ids,
)
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import JSON, table

VAULTS = table(
    "azure_keyvault_keyvaults",
    [
        "subscription_id",
        ("properties", JSON),
        "location",
        ("tags", JSON),
        "id",
        "name",
        ("system_data", JSON),
        "type",
    ],
)
_ITEM_COLUMNS: list[tuple[str, str] | str] = [
    ("properties", JSON),
    "id",
    "location",
    "name",
    ("tags", JSON),
    "type",
]
KEYS = table("azure_keyvault_keyvault_keys", _ITEM_COLUMNS, parent=VAULTS.name)
SECRETS = table("azure_keyvault_keyvault_secrets", _ITEM_COLUMNS, parent=VAULTS.name)
READ_VAULTS = "Microsoft.KeyVault/vaults/read"
# Fields that could hold secret material, whatever the service answers.
_SECRET_FIELDS = frozenset({"value"})


def transform_vault(subscription_id: str, item: Mapping[str, Any]) -> Row:
    """A vault (REST JSON of Vaults - List By Subscription) as a CloudQuery row."""
    row: Row = {
        "subscription_id": subscription_id,
        "properties": item.get("properties") or {},
        "location": item.get("location"),
        "tags": item.get("tags") or {},
        "id": item.get("id"),
        "name": item.get("name"),
        "system_data": item.get("systemData"),
        "type": item.get("type"),
    }
    return with_ids(row)


def transform_item(vault: Row, item: Mapping[str, Any]) -> Row:
    """A key or secret (REST JSON of Keys/Secrets - List) as metadata only: never a value."""
    properties = {
        k: v for k, v in (item.get("properties") or {}).items() if k not in _SECRET_FIELDS
    }
    row: Row = {
        "properties": properties,
        "id": item.get("id"),
        "location": item.get("location") or vault.get("location"),
        "name": item.get("name"),
        "tags": item.get("tags") or {},
        "type": item.get("type"),
    }
    return with_ids(row, parent=vault)


def vaults(sub: SubscriptionContext) -> list[Row]:
    """The subscription's vaults as rows, listed once for the vault, key and secret units."""

    def load() -> list[Row]:
        items = list_raw(sub.keyvault().vaults.list_by_subscription)
        return [transform_vault(sub.subscription_id, item) for item in items]

    return sub.shared("vaults", load)


def fetch_vaults(sub: SubscriptionContext) -> Rows:
    """Key Vaults of the subscription."""
    return {VAULTS: [dict(v) for v in vaults(sub)]}


def _fetch_items(sub: SubscriptionContext, kind: str) -> list[Row]:
    operations = getattr(sub.keyvault(), kind)
    rows: list[Row] = []
    for vault in vaults(sub):
        group = resource_group_of(str(vault["id"]))
        rows += [transform_item(vault, i) for i in list_raw(operations.list, group, vault["name"])]
    return rows


def fetch_keys(sub: SubscriptionContext) -> Rows:
    """Key metadata of every vault (type, size, expiry, rotation policy)."""
    return {KEYS: _fetch_items(sub, "keys")}


def fetch_secrets(sub: SubscriptionContext) -> Rows:
    """Secret metadata of every vault (content type, expiry); values are never read."""
    return {SECRETS: _fetch_items(sub, "secrets")}


register(
    AzureResource(
        name="keyvault.vaults",
        service="keyvault",
        tables=(VAULTS,),
        permissions=(READ_VAULTS,),
        fetch=fetch_vaults,
        description="Key Vaults: soft delete, purge protection, RBAC, network access.",
    )
)
register(
    AzureResource(
        name="keyvault.keys",
        service="keyvault",
        tables=(KEYS,),
        permissions=(READ_VAULTS, "Microsoft.KeyVault/vaults/keys/read"),
        fetch=fetch_keys,
        description="Key metadata: type, expiry, enabled.",
    )
)
register(
    AzureResource(
        name="keyvault.secrets",
        service="keyvault",
        tables=(SECRETS,),
        permissions=(READ_VAULTS, "Microsoft.KeyVault/vaults/secrets/read"),
        fetch=fetch_secrets,
        description="Secret metadata: content type, expiry, enabled (never the value).",
    )
)
