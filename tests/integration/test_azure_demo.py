"""The demo's Azure part on DuckDB and PostgreSQL: loaded twice (replaced, not appended)."""

from __future__ import annotations

from opencwpp.assess import assess
from opencwpp.core.models import Status
from opencwpp.demo.azure import LOCKED, OPEN, load_azure_demo, loaded_checks, run_azure_demo
from opencwpp.lake import Lake


def test_azure_demo_part(lake: Lake) -> None:
    rows = load_azure_demo(lake)
    assert load_azure_demo(lake) == rows  # a second demo run replaces the subscription's rows
    assert lake.query("SELECT count(*) AS n FROM azure_storage_accounts")[0]["n"] == 2
    checks = loaded_checks(lake)
    assert "storage_account_blob_anonymous_access_allowed" in {c.id for c in checks}
    assert "keyvault_not_recoverable" not in {c.id for c in checks}  # no vaults in the demo
    verdict = {(f.check_id, f.resource.uid): f.status for f in assess(lake, checks).findings}
    assert verdict[("storage_account_blob_anonymous_access_allowed", OPEN)] is Status.FAIL
    assert verdict[("storage_account_blob_anonymous_access_allowed", LOCKED)] is Status.PASS
    assert Status.NOT_ASSESSED not in set(verdict.values())
    guest = [s for (c, _), s in verdict.items() if c == "authorization_privileged_role_guest_user"]
    assert sorted(guest) == [Status.FAIL, Status.PASS]  # the guest Owner; the member's reader
    result = run_azure_demo(lake, rows)
    assert (result.blob_findings, result.blob_failing) == (2, 1)
    assert result.alerts == 2  # keys listed, diagnostic setting deleted; the read is no alert
    again = run_azure_demo(lake, rows)
    assert again.alerts == 2
