"""Entra ID users over Microsoft Graph (the replay server's `/v1.0/users`), and the guest check.

Graph is served by the same loopback HTTPS replay server as ARM, with two recorded, scrubbed
pages; the collector follows `@odata.nextLink`, reads the tenant once for both subscriptions,
and a 403 (Authorization_RequestDenied) makes the guest check NOT_ASSESSED, never PASS.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from opencwpp.assess import assess, select_checks
from opencwpp.collect.azure.context import AzureContext
from opencwpp.collect.azure.sync import sync_azure
from opencwpp.collect.sync import STATUS_NOT_ASSESSED, STATUS_OK, SyncFailed
from opencwpp.core.models import Status
from opencwpp.lake import Lake

if TYPE_CHECKING:
    from tests.integration.azure_fixtures import ArmReplay

pytest_plugins = ["tests.integration.azure_fixtures"]

SUB_A = "00000000-0000-0000-0000-000000000000"
SUB_B = "11111111-1111-1111-1111-111111111111"
TENANT = "aaaaaaaa-0000-0000-0000-000000000000"
GUEST_CHECK = "authorization_privileged_role_guest_user"
RA = f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleAssignments/"
ARM_DATA = Path(__file__).resolve().parents[1] / "data" / "azure" / "arm"
# A recorded, scrubbed Graph refusal (an app without User.Read.All).
DENIED = json.loads((ARM_DATA / "error_graph_denied.json").read_text())


def _scopes(lake: Lake, table: str) -> dict[str, tuple[str, str]]:
    rows = lake.query(
        "SELECT account_id, status, reason FROM cwpp_sync_scopes WHERE table_name = ?", (table,)
    )
    return {r["account_id"]: (r["status"], r["reason"]) for r in rows}


def test_users_of_the_tenant_for_every_subscription(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    sync_azure(lake, azure_context.subscriptions(), ["entra.users"])
    assert arm.unmatched == []
    graph = [r for r in arm.requests if r.path == "/v1.0/users"]
    # Both pages, read once for the two subscriptions of the tenant; only the selected fields.
    assert [r.query.get("$skiptoken") for r in graph] == [None, "page2"]
    assert "passwordProfile" not in graph[0].query["$select"]
    assert graph[0].query["$select"].startswith("id,userPrincipalName,")
    assert {r.method for r in arm.requests} == {"GET"}
    assert all(r.authorization == "Bearer fake-token-for-tests" for r in graph)
    assert "https://graph.microsoft.com/.default" in azure_context.credential.scopes
    rows = lake.query(
        "SELECT subscription_id, tenant_id, id, user_principal_name, display_name, user_type, "
        "external_user_state, account_enabled, created_date_time FROM cwpp_azure_entra_users "
        "ORDER BY subscription_id, id"
    )
    assert len(rows) == 10 and {r["subscription_id"] for r in rows} == {SUB_A, SUB_B}
    first = rows[0]
    assert first["tenant_id"] == TENANT and first["user_type"] == "Guest"
    assert first["display_name"] == "<img src=x onerror=alert(1)>"  # data, never markup
    assert str(first["created_date_time"]).startswith("2024-01-01 09:00:00")
    contractor = next(r for r in rows if r["id"].endswith("07"))
    assert contractor["account_enabled"] is False
    assert contractor["external_user_state"] == "PendingAcceptance"
    assert _scopes(lake, "cwpp_azure_entra_users") == {
        SUB_A: (STATUS_OK, ""),
        SUB_B: (STATUS_OK, ""),
    }


def test_guest_check_over_the_replayed_estate(azure_context: AzureContext, lake: Lake) -> None:
    sync_azure(lake, azure_context.subscriptions())
    findings = assess(lake, select_checks([GUEST_CHECK])).findings
    verdict = {f.resource.uid: f for f in findings}
    owner_guest = verdict[RA + "aaaa0001-0000-4000-8000-000000000001"]
    assert owner_guest.status is Status.FAIL
    assert owner_guest.resource.name == "mallory_evil.example#EXT#@contoso.onmicrosoft.com"
    assert owner_guest.status_reason == (
        "Guest user mallory_evil.example#EXT#@contoso.onmicrosoft.com holds Owner at "
        f"/subscriptions/{SUB_A}."
    )
    assert owner_guest.compliance == {"cis-azure-2.0": ["1.5"]}
    # A disabled guest with a pending invitation holding the custom "*" role still fails.
    god = verdict[RA + "aaaa0008-0000-4000-8000-000000000008"]
    assert god.status is Status.FAIL
    assert "custom role Subscription God Mode" in god.status_reason
    assert god.status_reason.endswith("(account disabled) (invitation not yet accepted).")
    # Near misses: Owner and Contributor held by a member; a data role held by a guest.
    assert verdict[RA + "aaaa0002-0000-4000-8000-000000000002"].status is Status.PASS
    rg = f"/subscriptions/{SUB_A}/resourceGroups/rg-data/providers/Microsoft.Authorization/"
    assert verdict[rg + "roleAssignments/aaaa0007-0000-4000-8000-000000000007"].status is (
        Status.PASS
    )
    reader = [
        f for uid, f in verdict.items() if uid.endswith("aaaa0006-0000-4000-8000-000000000006")
    ]
    assert [f.status for f in reader] == [Status.PASS]
    # Groups and service principals are not users: not judged here.
    assert not [uid for uid in verdict if uid.endswith(("0003", "0004", "0005"))]
    assert Status.NOT_ASSESSED not in {f.status for f in findings}


def test_graph_refusal_is_not_assessed_never_pass(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    arm.overrides["/v1.0/users"] = (403, DENIED)
    sync_azure(lake, azure_context.subscriptions())  # an expected error: the sync goes on
    reason = "Authorization_RequestDenied (HTTP 403): Insufficient privileges to complete the"
    scopes = _scopes(lake, "cwpp_azure_entra_users")
    assert {s for s, _ in scopes.values()} == {STATUS_NOT_ASSESSED}
    assert all(r.startswith(reason) for _, r in scopes.values())
    findings = assess(lake, select_checks([GUEST_CHECK])).findings
    assert {f.status for f in findings} == {Status.NOT_ASSESSED}
    assert "not collected: cwpp_azure_entra_users" in findings[0].status_reason


def test_refused_after_a_good_sync_the_subscription_is_not_assessed(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    sync_azure(lake, azure_context.subscriptions([SUB_A]))
    # Subscription B now holds an Owner assignment to the guest, but its directory read fails.
    owner = {
        "id": f"/subscriptions/{SUB_B}/providers/Microsoft.Authorization/roleAssignments/b1",
        "name": "b1",
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/"
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            "principalId": "eeeeeeee-0000-0000-0000-000000000002",
            "principalType": "User",
            "scope": f"/subscriptions/{SUB_B}",
        },
    }
    path = f"/subscriptions/{SUB_B}/providers/Microsoft.Authorization/roleAssignments"
    arm.overrides[path] = (200, {"value": [owner]})
    arm.overrides["/v1.0/users"] = (403, DENIED)
    sync_azure(lake, azure_context.subscriptions([SUB_B]))
    findings = assess(lake, select_checks([GUEST_CHECK])).findings
    in_b = [f for f in findings if f.resource.account_id == SUB_B]
    assert [f.status for f in in_b] == [Status.NOT_ASSESSED]
    assert "Authorization_RequestDenied" in in_b[0].status_reason
    assert Status.FAIL in {f.status for f in findings if f.resource.account_id == SUB_A}


class _NoGraphCredential:
    """ARM tokens work; Graph tokens are refused (no consent in this tenant)."""

    def __init__(self) -> None:
        self.tenants: list[str | None] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if any("graph.microsoft.com" in s for s in scopes):
            self.tenants.append(kwargs.get("tenant_id"))
            raise ClientAuthenticationError("AADSTS65001: consent required.\nTrace ID: x")
        return AccessToken("fake-token-for-tests", int(time.time()) + 3600)


def test_no_graph_token_for_the_tenant_is_not_assessed(arm: ArmReplay, lake: Lake) -> None:
    credential = _NoGraphCredential()
    context = AzureContext(
        credential, arm_endpoint=arm.url, connection_verify=arm.ca_file, graph_endpoint=arm.url
    )
    sync_azure(lake, context.subscriptions([SUB_A]), ["entra.users", "subscription.subscriptions"])
    assert credential.tenants and set(credential.tenants) == {TENANT}
    assert _scopes(lake, "cwpp_azure_entra_users") == {
        SUB_A: (
            STATUS_NOT_ASSESSED,
            f"no Microsoft Graph token for tenant {TENANT}: AADSTS65001: consent required.",
        )
    }
    assert not [r for r in arm.requests if r.path.startswith("/v1.0/")]


def test_a_next_link_off_the_graph_endpoint_is_refused(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    page = {"value": [], "@odata.nextLink": "https://graph.evil.example/v1.0/users?$skiptoken=x"}
    arm.overrides["/v1.0/users"] = (200, page)
    with pytest.raises(SyncFailed) as failed:
        sync_azure(lake, azure_context.subscriptions([SUB_A]), ["entra.users"])
    outcome = failed.value.report.failed[0]
    assert outcome.resource == "entra.users"
    assert "leaves the Graph endpoint" in outcome.reason
