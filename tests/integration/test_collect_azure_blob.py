"""Blob containers read through the real Blob data plane (Azurite), on both lakes.

The storage account in the ARM fixtures points its blob endpoint at Azurite; containers made
there with each public access level come back through the collector, and the container check
judges them.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, PublicAccess

from opencwpp.checks import builtin_checks, run_check
from opencwpp.collect.azure.context import AzureContext
from opencwpp.collect.azure.sync import sync_azure
from opencwpp.core.models import Status
from opencwpp.lake import Lake

if TYPE_CHECKING:
    from tests.integration.azure_fixtures import ArmReplay

# `arm`, `azure_context` and `azurite_blob`, imported by pytest itself.
pytest_plugins = ["tests.integration.azure_fixtures"]

SUB_A = "00000000-0000-0000-0000-000000000000"
ACCOUNT_ID = (
    f"/subscriptions/{SUB_A}/resourceGroups/rg-data/providers/Microsoft.Storage/"
    "storageAccounts/stpublicdata"
)
LEVELS = {"az-container": "Container", "az-blob": "Blob", "az-private": "None"}


@pytest.fixture(scope="module")
def azurite_containers(azurite_blob: str) -> str:
    """Azurite with one container per public access level (made with azure-storage-blob)."""
    from tests.integration.azure_fixtures import dev_blob_credential

    access = {"Container": PublicAccess.CONTAINER, "Blob": PublicAccess.BLOB, "None": None}
    with BlobServiceClient(azurite_blob, credential=dev_blob_credential()) as client:
        for name, level in LEVELS.items():
            with contextlib.suppress(ResourceExistsError):
                client.create_container(name, public_access=access[level])
        blobs = client.get_container_client("az-blob")
        blobs.upload_blob("report.csv", b"a,b\n1,2\n", overwrite=True)
    return azurite_blob


def test_containers_come_from_the_blob_data_plane(
    arm: ArmReplay, azure_context: AzureContext, azurite_containers: str, lake: Lake
) -> None:
    arm.values["AZURITE_BLOB"] = azurite_containers
    report = sync_azure(
        lake,
        azure_context.subscriptions([SUB_A]),
        resources=["storage.accounts", "storage.containers"],
    )
    assert not report.failed and not report.not_assessed
    rows = lake.query(
        "SELECT id, name, type, properties, _cq_parent_id FROM azure_storage_containers "
        f"WHERE id LIKE '{ACCOUNT_ID}/%' ESCAPE '\\'"
    )
    got = {
        r["name"]: json.loads(r["properties"])
        if isinstance(r["properties"], str)
        else r["properties"]
        for r in rows
    }
    assert {name: p["publicAccess"] for name, p in got.items()} == LEVELS
    for row in rows:
        assert row["id"] == f"{ACCOUNT_ID}/blobServices/default/containers/{row['name']}"
        assert row["type"] == "Microsoft.Storage/storageAccounts/blobServices/containers"
    assert got["az-blob"]["leaseState"] == "Available"
    account = lake.query(f"SELECT _cq_id FROM azure_storage_accounts WHERE id = '{ACCOUNT_ID}'")
    assert {str(r["_cq_parent_id"]) for r in rows} == {str(account[0]["_cq_id"])}
    # Azurite answered, so the management-plane fallback was not needed for this account; the
    # firewalled account (data plane refused) still came through the management plane.
    arm_lists = [p for p in arm.paths() if p.endswith("/blobServices/default/containers")]
    assert arm_lists == [
        f"/subscriptions/{SUB_A}/resourceGroups/rg-secure/providers/Microsoft.Storage/"
        "storageAccounts/stlockeddown/blobServices/default/containers"
    ]


def test_container_check_judges_what_azurite_serves(
    arm: ArmReplay, azure_context: AzureContext, azurite_containers: str, lake: Lake
) -> None:
    arm.values["AZURITE_BLOB"] = azurite_containers
    sync_azure(
        lake,
        azure_context.subscriptions([SUB_A]),
        resources=["storage.accounts", "storage.containers"],
    )
    check = builtin_checks().get("storage_container_public_access")
    verdicts = {
        f.resource.uid.rsplit("/", 1)[-1]: f.status
        for f in run_check(lake, check)
        if f.resource.uid.startswith(ACCOUNT_ID)
    }
    assert verdicts == {
        "az-container": Status.FAIL,
        "az-blob": Status.FAIL,
        "az-private": Status.PASS,
    }
