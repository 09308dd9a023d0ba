"""Blob containers with their public access level, read through the Blob data plane.

Each account's containers are listed at its blob endpoint (`primaryEndpoints.blob`), the way a
client sees them. When the data plane refuses us (a storage firewall, a missing data-plane role:
HTTP 401/403) or cannot be reached, the same list comes from the management plane instead
(Blob Containers - List), which needs only the management read permission. Either way rows take
ARM's shape (`properties.publicAccess` = None | Blob | Container), as CloudQuery stores them.
Container metadata (free-form, may hold secrets) is never requested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import HttpResponseError, ServiceRequestError

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
from opencwpp.collect.azure.storage import READ_ACCOUNTS, has_blob_service, storage_accounts
from opencwpp.lake.schema import JSON, table

CONTAINERS = table(
    "azure_storage_containers",
    ["subscription_id", ("properties", JSON), "etag", "id", "name", "type"],
    parent="azure_storage_accounts",
)
CONTAINER_TYPE = "Microsoft.Storage/storageAccounts/blobServices/containers"
# What List Containers needs, on the data plane (Entra ID) and on the management plane alike.
READ_CONTAINERS = f"{CONTAINER_TYPE}/read"
_PUBLIC_ACCESS = {None: "None", "": "None", "blob": "Blob", "container": "Container"}
# Data-plane answers after which the management plane is asked instead.
_REFUSED_STATUS = frozenset({401, 403})


def _title(value: Any) -> str | None:
    return str(value).capitalize() if value else None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def transform_data_plane_container(subscription_id: str, account: Row, item: Any) -> Row:
    """A data-plane `ContainerProperties` as an ARM-shaped `azure_storage_containers` row."""
    lease = item.lease
    scope = item.encryption_scope
    public = item.public_access
    properties: dict[str, Any] = {
        "publicAccess": _PUBLIC_ACCESS.get(str(public).lower() if public else None, str(public)),
        "lastModifiedTime": _iso(item.last_modified),
        "leaseStatus": _title(getattr(lease, "status", None)),
        "leaseState": _title(getattr(lease, "state", None)),
        "leaseDuration": _title(getattr(lease, "duration", None)),
        "hasImmutabilityPolicy": bool(item.has_immutability_policy),
        "hasLegalHold": bool(item.has_legal_hold),
        "deleted": bool(item.deleted),
        "version": item.version,
        "defaultEncryptionScope": getattr(scope, "default_encryption_scope", None),
        "denyEncryptionScopeOverride": getattr(scope, "prevent_encryption_scope_override", None),
        "immutableStorageWithVersioning": {
            "enabled": bool(item.immutable_storage_with_versioning_enabled)
        },
    }
    row: Row = {
        "subscription_id": subscription_id,
        "properties": {k: v for k, v in properties.items() if v is not None},
        "etag": item.etag,
        "id": f"{account['id']}/blobServices/default/containers/{item.name}",
        "name": item.name,
        "type": CONTAINER_TYPE,
    }
    return with_ids(row, parent=account)


def transform_arm_container(subscription_id: str, account: Row, item: Mapping[str, Any]) -> Row:
    """A management-plane container (REST JSON of Blob Containers - List) as a row."""
    properties = dict(item.get("properties") or {})
    properties.pop("metadata", None)
    row: Row = {
        "subscription_id": subscription_id,
        "properties": properties,
        "etag": item.get("etag"),
        "id": item.get("id"),
        "name": item.get("name"),
        "type": item.get("type") or CONTAINER_TYPE,
    }
    return with_ids(row, parent=account)


def _blob_endpoint(account: Row) -> str | None:
    endpoints = (account.get("properties") or {}).get("primaryEndpoints") or {}
    blob = endpoints.get("blob")
    return str(blob) if blob else None


def _data_plane(sub: SubscriptionContext, account: Row, endpoint: str) -> list[Row] | None:
    """The account's containers from its blob endpoint; None when the data plane refuses."""
    try:
        with sub.blob_service(endpoint) as client:
            return [
                transform_data_plane_container(sub.subscription_id, account, item)
                for item in client.list_containers(include_metadata=False)
            ]
    except ServiceRequestError:
        return None
    except HttpResponseError as err:
        if err.status_code in _REFUSED_STATUS:
            return None
        raise


def containers_of(sub: SubscriptionContext, account: Row) -> list[Row]:
    """One account's containers: data plane first, management plane when refused."""
    endpoint = _blob_endpoint(account)
    if endpoint:
        rows = _data_plane(sub, account, endpoint)
        if rows is not None:
            return rows
    group = resource_group_of(str(account["id"]))
    items = list_raw(sub.storage().blob_containers.list, group, account["name"])
    return [transform_arm_container(sub.subscription_id, account, item) for item in items]


def fetch_containers(sub: SubscriptionContext) -> Rows:
    """Blob containers of every storage account of the subscription."""
    rows: list[Row] = []
    for account in storage_accounts(sub):
        if has_blob_service(account):
            rows += containers_of(sub, account)
    return {CONTAINERS: rows}


register(
    AzureResource(
        name="storage.containers",
        service="storage",
        tables=(CONTAINERS,),
        permissions=(READ_ACCOUNTS, READ_CONTAINERS),
        fetch=fetch_containers,
        description="Blob containers and their public access level.",
    )
)
