"""Blob readers, classic administrators and foreign principals on the replayed ARM estate.

The real SDK clients sync the scrubbed fixtures (tests/data/azure/arm) over HTTPS on loopback;
the analyses then run on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opencwpp.assess import assess, select_checks
from opencwpp.collect.azure.sync import sync_azure
from opencwpp.core.models import Severity, Status
from opencwpp.iam.azure_blob import BLOB_READ, who_can_azure
from opencwpp.iam.azure_blob_findings import blob_reader_findings
from opencwpp.lake import Lake

if TYPE_CHECKING:
    from opencwpp.collect.azure.context import AzureContext
    from tests.integration.azure_fixtures import ArmReplay

pytest_plugins = ["tests.integration.azure_fixtures"]

SUB = "00000000-0000-0000-0000-000000000000"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s"
PUBLIC, LOCKED = STORAGE % ("rg-data", "stpublicdata"), STORAGE % ("rg-secure", "stlockeddown")
CLASSIC = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/classicAdministrators/"


def _principal(n: int) -> str:
    return f"eeeeeeee-0000-0000-0000-{n:012d}"


def test_blob_readers_and_classic_admins_of_the_replayed_estate(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    sync_azure(lake, azure_context.subscriptions())
    assert arm.unmatched == []
    assert f"/subscriptions/{SUB}/providers/Microsoft.Authorization/classicAdministrators" in (
        arm.paths()
    )

    grants, warnings = who_can_azure(lake, BLOB_READ, PUBLIC)
    assert warnings == []
    via = {(g.principal_id, g.via) for g in grants}
    # Owners (incl. one at a management group), the Contributor of rg-data and the custom
    # "God Mode" role list the keys; the Blob Data Reader on the account reads; anyone reads
    # the public containers.
    assert {(_principal(n), "account-keys") for n in (1, 2, 3, 4, 5, 7)} <= via
    assert (_principal(6), "data-role") in via
    assert {g.container for g in grants if g.via == "anonymous"} == {
        "public-blob",
        "public-container",
    }
    # Shared key and anonymous access are off and nobody holds a data role there.
    assert who_can_azure(lake, BLOB_READ, LOCKED)[0] == []

    found, _ = blob_reader_findings(lake)
    by = {f.resource.uid: f for f in found}
    assert by[PUBLIC].status is Status.FAIL and by[PUBLIC].severity is Severity.HIGH
    assert by[PUBLIC].title.endswith("readable by 7 principal(s) incl. anonymous")
    assert by[LOCKED].status is Status.PASS

    checks = [
        "authorization_classic_administrator_present",
        "storage_account_keys_not_rotated_90_days",
    ]
    result = assess(lake, select_checks(checks))
    verdict = {(f.check_id, f.resource.uid): f.status for f in result.findings}
    assert verdict[(checks[0], CLASSIC + "classicadmin-co")] is Status.FAIL
    assert verdict[(checks[0], CLASSIC + "classicadmin-svc")] is Status.FAIL
    assert verdict[(checks[1], PUBLIC)] is Status.FAIL
    assert verdict[(checks[1], LOCKED)] is Status.PASS
