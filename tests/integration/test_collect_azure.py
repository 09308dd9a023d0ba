"""The Azure collector against the ARM replay server: real SDK clients, real HTTPS, both lakes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from opencwpp.collect.azure.context import AzureContext
from opencwpp.collect.azure.sync import sync_azure
from opencwpp.collect.sync import STATUS_NOT_ASSESSED, STATUS_OK, SyncFailed
from opencwpp.core.errors import UsageError
from opencwpp.lake import Lake

if TYPE_CHECKING:
    from tests.integration.azure_fixtures import ArmReplay

# The replay server fixtures (`arm`, `azure_context`), imported by pytest itself.
pytest_plugins = ["tests.integration.azure_fixtures"]

SUB_A = "00000000-0000-0000-0000-000000000000"
SUB_B = "11111111-1111-1111-1111-111111111111"
HOSTILE = "<img src=x onerror=alert(1)>"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _scopes(lake: Lake) -> dict[tuple[str, str], tuple[str, str]]:
    rows = lake.query(
        "SELECT table_name, account_id, status, reason, _cq_source_name FROM cwpp_sync_scopes"
    )
    assert {r["_cq_source_name"] for r in rows} == {"azure"}
    return {(r["account_id"], r["table_name"]): (r["status"], r["reason"]) for r in rows}


def test_sync_reads_every_subscription_into_the_lake(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    report = sync_azure(lake, azure_context.subscriptions())
    assert sorted(report.accounts) == [SUB_A, SUB_B]
    assert arm.unmatched == [], "the collector asked for something the fixtures lack"

    accounts = {
        r["name"]: r for r in lake.query("SELECT * FROM azure_storage_accounts ORDER BY name")
    }
    # Both pages of the storage account list (nextLink) were followed.
    assert set(accounts) == {"stpublicdata", "stlockeddown"}
    public = accounts["stpublicdata"]
    assert public["subscription_id"] == SUB_A
    assert public["location"] == "westeurope"
    assert _json(public["tags"])["team"] == HOSTILE  # stored as data, never interpreted
    assert _json(public["properties"])["allowBlobPublicAccess"] is True
    assert _json(public["sku"])["name"] == "Standard_LRS"
    assert _json(accounts["stlockeddown"]["properties"])["encryption"]["keySource"] == (
        "Microsoft.Keyvault"
    )

    services = lake.query("SELECT id, properties, _cq_parent_id FROM azure_storage_blob_services")
    assert len(services) == 2
    by_parent = {str(s["_cq_parent_id"]) for s in services}
    assert by_parent == {str(a["_cq_id"]) for a in accounts.values()}

    # Both data-plane endpoints refused (firewall 403): containers came from the ARM listing,
    # and the free-form container metadata (a fake account key here) was dropped.
    containers = {
        r["name"]: _json(r["properties"])
        for r in lake.query("SELECT name, properties FROM azure_storage_containers")
    }
    assert {n: p["publicAccess"] for n, p in containers.items()} == {
        "public-container": "Container",
        "public-blob": "Blob",
        "private": "None",
        "backups": "None",
    }
    assert all("metadata" not in p for p in containers.values())

    # Role assignments: both pages, every scope; role definitions split into action rows.
    assert lake.query("SELECT count(*) AS n FROM azure_authorization_role_assignments")[0]["n"] == 8
    starred = lake.query(
        "SELECT role_name FROM cwpp_azure_role_definition_actions "
        "WHERE kind = 'Actions' AND action = '*' AND role_type = 'CustomRole'"
    )
    assert [r["role_name"] for r in starred] == [f"Subscription God Mode {HOSTILE}"]
    data_actions = lake.query(
        "SELECT action FROM cwpp_azure_role_definition_actions WHERE kind = 'DataActions'"
    )
    assert [r["action"] for r in data_actions] == [
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    ]

    vaults = {r["name"] for r in lake.query("SELECT name FROM azure_keyvault_keyvaults")}
    assert vaults == {"kv-weak", "kv-strong"}
    secrets = lake.query("SELECT name, properties FROM azure_keyvault_keyvault_secrets")
    assert {s["name"] for s in secrets} == {"db-password", "api-token"}
    assert all("value" not in _json(s["properties"]) for s in secrets)
    dump = json.dumps(lake.query("SELECT * FROM azure_keyvault_keyvault_secrets"), default=str)
    assert "hunter2" not in dump

    subs = lake.query(
        "SELECT subscription_id, tenant_id, tags FROM azure_subscription_subscriptions"
    )
    by_id = {s["subscription_id"]: s for s in subs}
    assert set(by_id) == {SUB_A, SUB_B}
    # Raw REST JSON reaches the lake, fields the SDK model lacks (tenantId, tags) included.
    assert by_id[SUB_A]["tenant_id"] == "aaaaaaaa-0000-0000-0000-000000000000"
    assert _json(by_id[SUB_A]["tags"]) == {"owner": HOSTILE}


def test_expected_errors_are_not_assessed_with_the_reason(
    azure_context: AzureContext, lake: Lake
) -> None:
    sync_azure(lake, azure_context.subscriptions())
    scopes = _scopes(lake)
    status, reason = scopes[(SUB_A, "azure_keyvault_keyvault_keys")]
    assert status == STATUS_NOT_ASSESSED
    assert reason.startswith("AuthorizationFailed (HTTP 403)")
    for table in (
        "azure_keyvault_keyvaults",
        "azure_keyvault_keyvault_keys",
        "azure_keyvault_keyvault_secrets",
    ):
        assert scopes[(SUB_B, table)] == (
            STATUS_NOT_ASSESSED,
            "resource provider Microsoft.KeyVault not registered in the subscription",
        )
    assert scopes[(SUB_A, "azure_storage_containers")] == (STATUS_OK, "")
    assert scopes[(SUB_B, "azure_storage_accounts")] == (STATUS_OK, "")
    # Never assessed anywhere: the table was not even created, so no check can say PASS.
    assert not lake.table_exists("azure_keyvault_keyvault_keys")


def test_only_get_requests_with_a_bearer_token_over_https(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    sync_azure(lake, azure_context.subscriptions())
    assert arm.requests
    assert {r.method for r in arm.requests} == {"GET"}
    # The provider-not-registered answer did not make the SDK register it (a POST) for us.
    assert not [r for r in arm.requests if r.path.endswith("/register")]
    arm_calls = [r for r in arm.requests if r.path.startswith("/subscriptions")]
    assert all(r.authorization == "Bearer fake-token-for-tests" for r in arm_calls)
    assert "https://management.azure.com/.default" in azure_context.credential.scopes
    assert arm.url.startswith("https://127.0.0.1:")


def test_named_subscriptions_only(arm: ArmReplay, azure_context: AzureContext, lake: Lake) -> None:
    context = azure_context
    report = sync_azure(lake, context.subscriptions([SUB_A.upper()]))
    assert report.accounts == [SUB_A]
    assert not [r for r in arm.requests if SUB_B in r.path]
    with pytest.raises(UsageError, match="not visible to these credentials: 22222222"):
        context.subscriptions(["22222222-2222-2222-2222-222222222222"])
    with pytest.raises(UsageError, match="not an Azure subscription id"):
        context.subscriptions(["../etc/passwd"])


def test_resync_replaces_the_scope_and_a_failed_unit_keeps_its_snapshot(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    context = azure_context
    sync_azure(lake, context.subscriptions([SUB_A]))
    first = lake.query("SELECT id, _cq_id FROM azure_storage_containers ORDER BY id")
    # The vaults are gone from the cloud: the next sync removes them and their secrets.
    vaults = f"/subscriptions/{SUB_A}/providers/Microsoft.KeyVault/vaults"
    arm.overrides[vaults] = (200, {"value": []})
    sync_azure(lake, context.subscriptions([SUB_A]))
    again = lake.query("SELECT id, _cq_id FROM azure_storage_containers ORDER BY id")
    assert len(again) == 4 and again == first  # replaced, not appended; ids are stable
    assert lake.query("SELECT count(*) AS n FROM azure_keyvault_keyvaults")[0]["n"] == 0
    assert lake.query("SELECT count(*) AS n FROM azure_keyvault_keyvault_secrets")[0]["n"] == 0
    # Role definitions answer HTTP 500 (not an expected error): that unit fails after the SDK's
    # retries, keeps its previous rows, the others load, and the sync ends in SyncFailed.
    path = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions"
    arm.overrides[path] = (500, {"error": {"code": "InternalServerError", "message": "boom"}})
    with pytest.raises(SyncFailed) as failed:
        sync_azure(lake, context.subscriptions([SUB_A]))
    assert [o.resource for o in failed.value.report.failed] == ["authorization.role_definitions"]
    assert lake.query("SELECT count(*) AS n FROM azure_authorization_role_definitions")[0]["n"] == 6
    scopes = _scopes(lake)
    assert scopes[(SUB_A, "azure_authorization_role_definitions")][0] == "failed"
    assert lake.query("SELECT id, _cq_id FROM azure_storage_containers ORDER BY id") == again
