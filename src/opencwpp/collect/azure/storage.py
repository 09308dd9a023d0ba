"""Storage accounts and their Blob service properties (management plane).

The account carries what the storage checks judge: anonymous blob access, HTTPS-only, minimum
TLS, shared-key access, public network access and network rules, private endpoints, encryption
(key source, infrastructure encryption). The Blob service carries soft delete and versioning.
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

ACCOUNTS = table(
    "azure_storage_accounts",
    [
        "subscription_id",
        "location",
        ("extended_location", JSON),
        ("identity", JSON),
        ("properties", JSON),
        ("tags", JSON),
        "id",
        "kind",
        "name",
        ("sku", JSON),
        "type",
    ],
)
BLOB_SERVICES = table(
    "azure_storage_blob_services",
    ["subscription_id", ("properties", JSON), "id", "name", ("sku", JSON), "type"],
    parent="azure_storage_accounts",
)
# Accounts of this kind have no Blob service to ask about.
_NO_BLOB_KINDS = frozenset({"FileStorage"})
READ_ACCOUNTS = "Microsoft.Storage/storageAccounts/read"


def transform_account(subscription_id: str, item: Mapping[str, Any]) -> Row:
    """A storage account (REST JSON of Storage Accounts - List) as a CloudQuery row."""
    row: Row = {
        "subscription_id": subscription_id,
        "location": item.get("location"),
        "extended_location": item.get("extendedLocation"),
        "identity": item.get("identity"),
        "properties": item.get("properties") or {},
        "tags": item.get("tags") or {},
        "id": item.get("id"),
        "kind": item.get("kind"),
        "name": item.get("name"),
        "sku": item.get("sku"),
        "type": item.get("type"),
    }
    return with_ids(row)


def transform_blob_service(subscription_id: str, account: Row, item: Mapping[str, Any]) -> Row:
    """A Blob service (REST JSON of Blob Services - List) as a child row of its account."""
    row: Row = {
        "subscription_id": subscription_id,
        "properties": item.get("properties") or {},
        "id": item.get("id"),
        "name": item.get("name"),
        "sku": item.get("sku"),
        "type": item.get("type"),
    }
    return with_ids(row, parent=account)


def storage_accounts(sub: SubscriptionContext) -> list[Row]:
    """The subscription's storage accounts as rows, listed once for every storage unit."""

    def load() -> list[Row]:
        items = list_raw(sub.storage().storage_accounts.list)
        return [transform_account(sub.subscription_id, item) for item in items]

    return sub.shared("storage_accounts", load)


def has_blob_service(account: Row) -> bool:
    """Whether the account kind offers Blob storage (FileStorage accounts do not)."""
    return account.get("kind") not in _NO_BLOB_KINDS


def fetch_accounts(sub: SubscriptionContext) -> Rows:
    """Storage accounts of the subscription."""
    return {ACCOUNTS: [dict(a) for a in storage_accounts(sub)]}


def fetch_blob_services(sub: SubscriptionContext) -> Rows:
    """The Blob service properties of every storage account that has one."""
    rows: list[Row] = []
    client = sub.storage()
    for account in storage_accounts(sub):
        if not has_blob_service(account):
            continue
        group = resource_group_of(str(account["id"]))
        items = list_raw(client.blob_services.list, group, account["name"])
        rows += [transform_blob_service(sub.subscription_id, account, i) for i in items]
    return {BLOB_SERVICES: rows}


register(
    AzureResource(
        name="storage.accounts",
        service="storage",
        tables=(ACCOUNTS,),
        permissions=(READ_ACCOUNTS,),
        fetch=fetch_accounts,
        description="Storage accounts with network, TLS, access-key and encryption settings.",
    )
)
register(
    AzureResource(
        name="storage.blob_services",
        service="storage",
        tables=(BLOB_SERVICES,),
        permissions=(READ_ACCOUNTS, "Microsoft.Storage/storageAccounts/blobServices/read"),
        fetch=fetch_blob_services,
        description="Blob service properties: soft delete, container soft delete, versioning.",
    )
)
