"""`azure-role-assignment-new-principal` on DuckDB and PostgreSQL, with and without inventory.

tests/data/azure/role_assignments/PT1H.json holds role assignment writes in the export format:
a never-seen principal made Owner (the Start record names it), one that already holds a role in
the inventory (the Success record's response body names it), one assigned earlier on a resource
group in the log, a denied attempt, a principal made UAA of a management group and then Owner a
minute later, and a body whose principalId is no GUID.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from opencwpp.collect.azure.authorization import ROLE_ASSIGNMENTS, transform_assignment
from opencwpp.collect.azure.sync import replace_subscription
from opencwpp.core.models import Finding, Severity
from opencwpp.detect.azure.engine import detect_azure
from opencwpp.detect.azure.ingest import ingest_paths
from opencwpp.detect.azure.rules import ROLE_ASSIGNMENT_HIGH_SCOPE, ROLE_ASSIGNMENT_NEW_PRINCIPAL
from opencwpp.lake import Lake

DATA = Path(__file__).resolve().parents[1] / "data" / "azure" / "role_assignments"
SUB = "00000000-0000-0000-0000-000000000000"
OWNER = "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
PRINCIPAL = "99999999-1111-4000-8000-00000000000"
NEW_ID = ROLE_ASSIGNMENT_NEW_PRINCIPAL.check_id


def _inventory(lake: Lake) -> None:
    """Role assignments as a sync writes them: one old, two made by the logged writes."""
    old, new, twice = "eeeeeeee-0000-0000-0000-000000000002", f"{PRINCIPAL}1", f"{PRINCIPAL}5"
    held = (  # assignment name, principal, created on
        ("aaaa0002-0000-4000-8000-000000000002", old, "2024-01-02T03:04:05.6789012Z"),
        ("5e000000-0000-4000-8000-000000000001", new, "2024-06-01T09:00:01.5Z"),
        ("5e000000-0000-4000-8000-000000000052", twice, "2024-06-01T10:01:00Z"),
    )
    rows = [
        transform_assignment(
            SUB,
            {
                "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments/{n}",
                "name": n,
                "type": "Microsoft.Authorization/roleAssignments",
                "properties": {
                    "roleDefinitionId": OWNER,
                    "principalId": principal,
                    "principalType": "User",
                    "scope": f"/subscriptions/{SUB}",
                    "createdOn": created,
                },
            },
        )
        for n, principal, created in held
    ]
    lake.ensure_tables([ROLE_ASSIGNMENTS])
    with lake.transaction():
        replace_subscription(lake, SUB, {ROLE_ASSIGNMENTS: rows}, datetime.now(UTC))


def _by_caller(findings: list[Finding], check_id: str) -> dict[str, Finding]:
    return {f.resource.uid: f for f in findings if f.check_id == check_id}


def _ingest(lake: Lake) -> None:
    results = ingest_paths(lake, [str(DATA)])
    assert [(r.read, r.inserted, r.rejected) for r in results] == [(11, 11, {})]


def test_fires_for_never_seen_principals_without_inventory(lake: Lake) -> None:
    _ingest(lake)
    assert not lake.table_exists("azure_authorization_role_assignments")
    findings = detect_azure(lake).findings
    new = _by_caller(findings, NEW_ID)
    # Without inventory the onboarder's principal looks new too; the earlier resource-group
    # assignment (log history), the denied call and the body without a GUID stay quiet.
    assert set(new) == {"backdoor@evil.example", "onboarder@contoso.example", "twice@evil.example"}
    twice = new["twice@evil.example"]
    assert twice.evidence["event_count"] == 1  # the second grant has the first as history
    assert twice.evidence["resources"] == [
        "/PROVIDERS/MICROSOFT.MANAGEMENT/MANAGEMENTGROUPS/CONTOSO-ROOT/PROVIDERS/"
        "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/5E000000-0000-4000-8000-000000000051"
    ]
    backdoor = new["backdoor@evil.example"]
    assert backdoor.evidence["event_count"] == 1  # the Success record, not the Start
    assert backdoor.severity is Severity.HIGH and backdoor.mitre_attack == ("T1098.003",)
    broad = _by_caller(findings, ROLE_ASSIGNMENT_HIGH_SCOPE.check_id)
    assert {"ops@contoso.example", "weird@evil.example"} <= set(broad)
    assert "denied@evil.example" not in broad
    assert {f.severity for f in broad.values()} == {Severity.MEDIUM}


def test_inventory_history_quiets_a_known_principal_only(lake: Lake) -> None:
    _ingest(lake)
    _inventory(lake)
    new = _by_caller(detect_azure(lake).findings, NEW_ID)
    # The onboarder's principal already held Owner since January: not new. The backdoor's own
    # assignment (made by the event) and the twice principal's later one do not count.
    assert set(new) == {"backdoor@evil.example", "twice@evil.example"}
    # The view is gone after the run; the inventory can be dropped as before.
    lake.execute('DROP TABLE "azure_authorization_role_assignments"')
    again = _by_caller(detect_azure(lake).findings, NEW_ID)
    assert "onboarder@contoso.example" in again
