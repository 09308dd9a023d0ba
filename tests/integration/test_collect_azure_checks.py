"""The Azure checks: every case on DuckDB and PostgreSQL, and a scan of the replayed estate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from opencwpp.assess import assess, select_checks
from opencwpp.catalog import lake_tables
from opencwpp.checks import Check, builtin_checks
from opencwpp.checks.cases import load_cases, run_case
from opencwpp.checks.views import base_tables, builtin_views, with_dependencies
from opencwpp.collect.azure.base import azure_tables
from opencwpp.collect.azure.sync import sync_azure
from opencwpp.core.models import Status
from opencwpp.lake import Lake

if TYPE_CHECKING:
    from opencwpp.collect.azure.context import AzureContext

pytest_plugins = ["tests.integration.azure_fixtures"]

AZURE_CHECKS = [c for c in builtin_checks() if c.meta.provider == "azure"]
SUB_A = "00000000-0000-0000-0000-000000000000"
SUB_B = "11111111-1111-1111-1111-111111111111"
STORAGE = f"/subscriptions/{SUB_A}/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s"
VAULT = f"/subscriptions/{SUB_A}/resourceGroups/%s/providers/Microsoft.KeyVault/vaults/%s"


def test_there_are_enough_azure_checks_and_they_read_azure_tables() -> None:
    assert len(AZURE_CHECKS) >= 15
    tables, views = azure_tables(), builtin_views()
    for check in AZURE_CHECKS:
        for name in check.meta.tables:
            if name in views:  # a shared judgement: it must read Azure tables only
                read = base_tables(with_dependencies([views.get(name)], views))
                assert read <= set(tables), (check.id, name)
            else:
                assert name in tables, (check.id, name)
        assert check.folder.parent.parent.name == "azure"


@pytest.mark.parametrize("check", AZURE_CHECKS, ids=lambda c: c.id)
def test_azure_check_cases(check: Check, lake: Lake) -> None:
    catalog = {**lake_tables(), **azure_tables()}
    cases = load_cases(check)
    assert {Status.PASS, Status.FAIL} <= {s for c in cases for s in c.expect.values()}
    for case in cases:
        result = run_case(lake, check, case, catalog)
        assert result.ok, (
            f"{check.id} / {case.name}: expected "
            f"{ {k: v.value for k, v in case.expect.items()} }, "
            f"got { {k: v.value for k, v in result.got.items()} }"
        )


def test_scan_of_the_replayed_estate(azure_context: AzureContext, lake: Lake) -> None:
    sync_azure(lake, azure_context.subscriptions())
    result = assess(lake, select_checks([c.id for c in AZURE_CHECKS]))
    verdict = {(f.check_id, f.resource.uid): f for f in result.findings}

    def status(check_id: str, uid: str) -> Status:
        return verdict[(check_id, uid)].status

    public, locked = STORAGE % ("rg-data", "stpublicdata"), STORAGE % ("rg-secure", "stlockeddown")
    for check_id in (
        "storage_account_blob_anonymous_access_allowed",
        "storage_account_https_only_disabled",
        "storage_account_minimum_tls_below_1_2",
        "storage_account_shared_key_access_allowed",
        "storage_account_public_network_access_open",
        "storage_account_no_customer_managed_key",
        "storage_account_infrastructure_encryption_disabled",
        "storage_blob_soft_delete_disabled",
        "storage_container_soft_delete_disabled",
        "storage_blob_versioning_disabled",
    ):
        assert status(check_id, public) is Status.FAIL, check_id
        assert status(check_id, locked) is Status.PASS, check_id
    containers = f"{public}/blobServices/default/containers/"
    assert status("storage_container_public_access", containers + "public-container") is Status.FAIL
    assert status("storage_container_public_access", containers + "public-blob") is Status.FAIL
    assert status("storage_container_public_access", containers + "private") is Status.PASS

    weak, strong = VAULT % ("rg-data", "kv-weak"), VAULT % ("rg-secure", "kv-strong")
    for check_id in (
        "keyvault_not_recoverable",
        "keyvault_public_network_access",
        "keyvault_rbac_authorization_disabled",
    ):
        assert status(check_id, weak) is Status.FAIL, check_id
        assert status(check_id, strong) is Status.PASS, check_id
    assert status("keyvault_secret_without_expiry", f"{weak}/secrets/db-password") is Status.FAIL
    assert status("keyvault_secret_without_expiry", f"{strong}/secrets/api-token") is Status.PASS

    # Keys were denied (403) in one subscription and the provider is missing in the other: the
    # key check says NOT_ASSESSED with the reason, never PASS.
    keys = [f for f in result.findings if f.check_id == "keyvault_key_without_expiry"]
    assert {f.status for f in keys} == {Status.NOT_ASSESSED}
    reasons = " ".join(f.status_reason for f in keys)
    assert "not collected" in reasons or "AuthorizationFailed" in reasons

    subscription = f"/subscriptions/{SUB_A}"
    owners = verdict[("authorization_subscription_owner_count", subscription)]
    assert owners.status is Status.FAIL and owners.status_reason.startswith("5 principal(s)")
    assert status("authorization_subscription_owner_count", f"/subscriptions/{SUB_B}") is (
        Status.PASS
    )
    roles = f"{subscription}/providers/Microsoft.Authorization/roleDefinitions/"
    god = verdict[
        (
            "authorization_custom_role_subscription_admin",
            roles + "c0ffee00-0000-4000-8000-000000000001",
        )
    ]
    assert god.status is Status.FAIL
    assert god.resource.name == "Subscription God Mode <img src=x onerror=alert(1)>"
    auditor = roles + "c0ffee00-0000-4000-8000-000000000002"
    assert status("authorization_custom_role_subscription_admin", auditor) is Status.PASS
    # Region is the resource's location; account is the subscription.
    finding = verdict[("storage_account_https_only_disabled", public)]
    assert (finding.resource.account_id, finding.resource.region) == (SUB_A, "westeurope")
    assert finding.compliance == {"cis-azure-2.0": ["3.1"]}
