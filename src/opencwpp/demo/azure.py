"""The demo's small Azure part: one subscription with a public and a locked-down storage account.

Azure Resource Manager has no emulator, so the resources are written as ARM's REST answers and
loaded through the collector's own transforms (the rows a sync of those answers would write);
the Azure checks whose tables that fills, the blob-reader analysis and the Activity Log
detections (over a short export written to a temporary folder and ingested like a real one)
then run on them.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opencwpp.checks import Check, provider_checks
from opencwpp.checks.views import builtin_views
from opencwpp.collect.azure.authorization import (
    ROLE_ASSIGNMENTS,
    transform_assignment,
    transform_definition,
)
from opencwpp.collect.azure.base import Rows
from opencwpp.collect.azure.blob import CONTAINERS, transform_arm_container
from opencwpp.collect.azure.classic_admins import CLASSIC_ADMINS, transform_classic_admin
from opencwpp.collect.azure.entra import ENTRA_USERS, transform_user
from opencwpp.collect.azure.storage import ACCOUNTS, transform_account
from opencwpp.collect.azure.subscription import SUBSCRIPTIONS, transform_subscription
from opencwpp.collect.azure.sync import replace_subscription
from opencwpp.detect.azure.engine import detect_azure
from opencwpp.detect.azure.ingest import ingest_paths
from opencwpp.iam.azure_blob_findings import run_blob_readers
from opencwpp.lake.lake import Lake

SUB = "00000000-0000-0000-0000-000000000000"
_S = f"/subscriptions/{SUB}"
_RD = f"{_S}/providers/Microsoft.Authorization/roleDefinitions/"
_BLOB = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
OPEN = f"{_S}/resourceGroups/rg-demo/providers/Microsoft.Storage/storageAccounts/stdemopublic"
LOCKED = f"{_S}/resourceGroups/rg-demo/providers/Microsoft.Storage/storageAccounts/stdemolocked"
_ROLES: tuple[tuple[str, str, list[str], list[str]], ...] = (
    ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", ["*"], []),
    ("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader", [], [f"{_BLOB}/read"]),
    ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", ["*"], []),
)
_USERS = (  # the directory (Graph): the subscription's Owner is a partner's guest account
    (
        "d0000000-0000-4000-8000-000000000001",
        "partner_example.com#EXT#@demo.onmicrosoft.com",
        "Guest",
    ),
    ("d0000000-0000-4000-8000-000000000002", "analyst@demo.onmicrosoft.com", "Member"),
)
_ASSIGNMENTS = (  # principal, type, role, scope
    ("d0000000-0000-4000-8000-000000000001", "User", _ROLES[0][0], _S),
    ("d0000000-0000-4000-8000-000000000002", "User", _ROLES[1][0], LOCKED),
    ("d0000000-0000-4000-8000-000000000003", "ForeignGroup", _ROLES[2][0], _S),
)


@dataclass(frozen=True, slots=True)
class AzureDemoResult:
    """What the Azure part loaded and found."""

    rows: int
    blob_findings: int
    blob_failing: int
    alerts: int


def _account(uid: str, public: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "allowBlobPublicAccess": public,
        "allowSharedKeyAccess": public,
        "supportsHttpsTrafficOnly": not public,
        "minimumTlsVersion": "TLS1_0" if public else "TLS1_2",
        "publicNetworkAccess": "Enabled" if public else "Disabled",
        "networkAcls": {"defaultAction": "Allow" if public else "Deny"},
        "encryption": {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": False},
    }
    tags = {"team": "<img src=x onerror=alert(1)>"} if public else {"env": "prod"}
    name = uid.rsplit("/", 1)[-1]
    item = {"id": uid, "name": name, "location": "westeurope", "kind": "StorageV2", "tags": tags}
    return {**item, "type": "Microsoft.Storage/storageAccounts", "properties": props}


def estate_rows() -> Rows:
    """The demo subscription's rows, as the collector's transforms make them."""
    subscription = {"subscriptionId": SUB, "displayName": "opencwpp demo", "state": "Enabled"}
    rows: Rows = {SUBSCRIPTIONS: [transform_subscription(subscription)]}
    accounts = {uid: transform_account(SUB, _account(uid, uid == OPEN)) for uid in (OPEN, LOCKED)}
    rows[ACCOUNTS] = list(accounts.values())
    rows[CONTAINERS] = [
        transform_arm_container(
            SUB,
            accounts[uid],
            {
                "id": f"{uid}/blobServices/default/containers/{name}",
                "name": name,
                "properties": {"publicAccess": level},
            },
        )
        for uid, name, level in ((OPEN, "exports", "Container"), (LOCKED, "backups", "None"))
    ]
    for guid, name, actions, data in _ROLES:
        item = {
            "id": _RD + guid,
            "name": guid,
            "properties": {
                "roleName": name,
                "permissions": [{"actions": actions, "dataActions": data}],
                "type": "BuiltInRole",
            },
        }
        for tbl, new in transform_definition(SUB, item).items():
            rows.setdefault(tbl, []).extend(new)
    assignments = []
    for n, (principal, kind, guid, scope) in enumerate(_ASSIGNMENTS, 1):
        name = f"dddddddd-0000-4000-8000-{n:012d}"
        props = {"principalId": principal, "principalType": kind, "roleDefinitionId": _RD + guid}
        item = {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"}
        assignments.append(
            transform_assignment(
                SUB, {**item, "name": name, "properties": {**props, "scope": scope}}
            )
        )
    rows[ROLE_ASSIGNMENTS] = assignments
    rows[ENTRA_USERS] = [
        transform_user(
            SUB,
            "",
            {"id": uid, "userPrincipalName": upn, "userType": kind, "accountEnabled": True},
        )
        for uid, upn, kind in _USERS
    ]
    classic = {
        "id": f"{_S}/providers/Microsoft.Authorization/classicAdministrators/co",
        "name": "co",
        "properties": {"emailAddress": "old-admin@example.com", "role": "CoAdministrator"},
    }
    rows[CLASSIC_ADMINS] = [transform_classic_admin(SUB, classic)]
    return rows


def _activity_record(minute: int, operation: str, caller: str, resource: str) -> dict[str, Any]:
    return {
        "time": f"2024-05-01T10:{minute:02d}:00.0000000Z",
        "resourceId": resource.upper(),
        "operationName": operation.upper(),
        "category": "Administrative",
        "resultType": "Success",
        "callerIpAddress": "203.0.113.7",
        "correlationId": f"demo-{minute}",
        "identity": {"claims": {"name": caller}},
        "properties": {},
    }


def activity_records() -> list[dict[str, Any]]:
    """A short Activity Log: keys listed, the diagnostic setting deleted, an admin's read."""
    return [
        _activity_record(
            1, "Microsoft.Storage/storageAccounts/listKeys/action", "intruder@example.com", OPEN
        ),
        _activity_record(
            2,
            "Microsoft.Insights/diagnosticSettings/delete",
            "intruder@example.com",
            f"{_S}/providers/Microsoft.Insights/diagnosticSettings/export-all",
        ),
        _activity_record(3, "Microsoft.Storage/storageAccounts/read", "admin@example.com", OPEN),
    ]


def loaded_checks(lake: Lake) -> list[Check]:
    """The Azure checks whose tables (or views) the demo filled."""
    present = lake.table_names() | {v.name for v in builtin_views()}
    return [c for c in provider_checks("azure") if set(c.meta.tables) <= present]


def load_azure_demo(lake: Lake) -> int:
    """Replaces the demo subscription's rows in the lake; returns how many were written."""
    counts = replace_subscription(lake, SUB, estate_rows(), datetime.now(UTC))
    return sum(counts.values())


def run_azure_demo(lake: Lake, rows: int) -> AzureDemoResult:
    """Blob readers and Activity Log detections over the loaded demo subscription."""
    blob, _, _ = run_blob_readers(lake)
    with tempfile.TemporaryDirectory(prefix="cwpp-demo-activity-") as folder:
        path = Path(folder) / "PT1H.json"
        path.write_text("".join(json.dumps(r) + "\n" for r in activity_records()), "utf-8")
        ingest_paths(lake, [str(path)])
    alerts = detect_azure(lake).findings
    failing = sum(1 for f in blob if f.status.value == "FAIL")
    return AzureDemoResult(rows, len(blob), failing, len(alerts))
