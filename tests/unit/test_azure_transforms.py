"""Pure transforms of the Azure collector: REST JSON in, CloudQuery-shaped rows out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from opencwpp.collect.azure.authorization import (
    ROLE_ACTIONS,
    ROLE_DEFINITIONS,
    ROLE_SCOPES,
    transform_assignment,
    transform_definition,
)
from opencwpp.collect.azure.base import resource_group_of, subscription_of
from opencwpp.collect.azure.blob import transform_arm_container, transform_data_plane_container
from opencwpp.collect.azure.keyvault import transform_item, transform_vault
from opencwpp.collect.azure.storage import transform_account, transform_blob_service
from opencwpp.collect.azure.subscription import transform_subscription

SUB = "00000000-0000-0000-0000-000000000000"
ACCOUNT_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-Data_1/providers/Microsoft.Storage/"
    "storageAccounts/acct"
)


def _account() -> dict[str, Any]:
    return transform_account(
        SUB,
        {
            "id": ACCOUNT_ID,
            "name": "acct",
            "type": "Microsoft.Storage/storageAccounts",
            "location": "westeurope",
            "kind": "StorageV2",
            "sku": {"name": "Standard_LRS"},
            "tags": {"x": "<img src=x onerror=alert(1)>"},
            "properties": {"allowBlobPublicAccess": True, "newProperty": {"a": 1}},
        },
    )


def test_storage_account_row_keeps_rest_json_and_a_stable_id() -> None:
    row = _account()
    assert row["subscription_id"] == SUB
    assert row["properties"]["newProperty"] == {"a": 1}  # unknown fields survive
    assert row["tags"] == {"x": "<img src=x onerror=alert(1)>"}
    assert row["_cq_id"] == _account()["_cq_id"]
    service = transform_blob_service(SUB, row, {"id": f"{ACCOUNT_ID}/blobServices/default"})
    assert service["_cq_parent_id"] == row["_cq_id"]
    assert service["properties"] == {}


def test_data_plane_container_takes_the_arm_shape() -> None:
    item = SimpleNamespace(
        name="web",
        public_access="container",
        last_modified=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        etag='"0x1"',
        lease=SimpleNamespace(status="unlocked", state="available", duration=None),
        has_immutability_policy=False,
        has_legal_hold=False,
        deleted=None,
        version=None,
        encryption_scope=None,
        immutable_storage_with_versioning_enabled=False,
        metadata={"secret": "AccountKey=abc"},
    )
    row = transform_data_plane_container(SUB, _account(), item)
    assert row["id"] == f"{ACCOUNT_ID}/blobServices/default/containers/web"
    assert row["properties"]["publicAccess"] == "Container"
    assert row["properties"]["leaseState"] == "Available"
    assert row["properties"]["lastModifiedTime"] == "2024-01-02T03:04:05+00:00"
    assert "AccountKey" not in json.dumps(row)
    assert row["_cq_parent_id"] == _account()["_cq_id"]
    private = transform_data_plane_container(
        SUB, _account(), SimpleNamespace(**{**vars(item), "public_access": None})
    )
    assert private["properties"]["publicAccess"] == "None"
    blob = transform_data_plane_container(
        SUB, _account(), SimpleNamespace(**{**vars(item), "public_access": "blob"})
    )
    assert blob["properties"]["publicAccess"] == "Blob"


def test_arm_container_drops_free_form_metadata() -> None:
    row = transform_arm_container(
        SUB,
        _account(),
        {
            "id": f"{ACCOUNT_ID}/blobServices/default/containers/c",
            "name": "c",
            "properties": {"publicAccess": "Blob", "metadata": {"k": "secret"}},
        },
    )
    assert row["properties"] == {"publicAccess": "Blob"}
    assert row["type"] == "Microsoft.Storage/storageAccounts/blobServices/containers"


def test_key_vault_items_never_keep_a_value() -> None:
    vault = transform_vault(
        SUB,
        {
            "id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
            "name": "kv",
            "location": "northeurope",
            "properties": {"enablePurgeProtection": True},
        },
    )
    secret = transform_item(
        vault,
        {
            "id": vault["id"] + "/secrets/s",
            "name": "s",
            "properties": {"value": "hunter2", "attributes": {"enabled": True}},
        },
    )
    assert "hunter2" not in json.dumps(secret)
    assert secret["properties"] == {"attributes": {"enabled": True}}
    assert secret["location"] == "northeurope"  # the vault's, when the item has none
    assert secret["_cq_parent_id"] == vault["_cq_id"]


def test_role_definition_is_split_into_action_and_scope_rows() -> None:
    rows = transform_definition(
        SUB,
        {
            "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/r1",
            "name": "r1",
            "properties": {
                "roleName": "Mixed",
                "type": "CustomRole",
                "assignableScopes": [f"/subscriptions/{SUB}", f"/subscriptions/{SUB}"],
                "permissions": [
                    {"actions": ["*", "*"], "notActions": ["Microsoft.Authorization/*/Write"]},
                    {
                        "dataActions": [
                            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
                        ],
                        "actions": ["*"],
                    },
                ],
            },
        },
    )
    (definition,) = rows[ROLE_DEFINITIONS]
    actions = [(r["permission_index"], r["kind"], r["action"]) for r in rows[ROLE_ACTIONS]]
    assert actions == [
        (0, "Actions", "*"),
        (0, "NotActions", "Microsoft.Authorization/*/Write"),
        (1, "Actions", "*"),
        (1, "DataActions", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"),
    ]
    assert len({r["_cq_id"] for r in rows[ROLE_ACTIONS]}) == 4
    assert [r["assignable_scope"] for r in rows[ROLE_SCOPES]] == [f"/subscriptions/{SUB}"]
    assert all(r["_cq_parent_id"] == definition["_cq_id"] for r in rows[ROLE_ACTIONS])


def test_role_assignment_id_includes_the_subscription() -> None:
    item = {
        "id": "/providers/Microsoft.Management/managementGroups/mg/providers/"
        "Microsoft.Authorization/roleAssignments/a",
        "properties": {},
    }
    assert transform_assignment("s1", item)["_cq_id"] != transform_assignment("s2", item)["_cq_id"]


def test_subscription_row() -> None:
    row = transform_subscription(
        {"subscriptionId": SUB, "displayName": "Prod", "tenantId": "t", "state": "Enabled"}
    )
    assert row["id"] == f"/subscriptions/{SUB}"
    assert row["tags"] == {} and row["managed_by_tenants"] == []


def test_ids_parts() -> None:
    assert resource_group_of(ACCOUNT_ID) == "rg-Data_1"
    assert subscription_of(ACCOUNT_ID) == SUB
    assert resource_group_of(f"/subscriptions/{SUB}") == ""
