"""Findings on who can read each Azure storage account's blob data (access-control pillar).

One finding per collected storage account. It fails when anyone can read anonymously, when a
principal of another tenant (ForeignGroup) can read, or when principals read through the
account keys (shared-key access on): those reads bypass Entra ID, its conditional access and
per-identity audit. Accounts read only through data roles pass, with their readers as evidence.
"""

from __future__ import annotations

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.iam.azure_blob import (
    ANONYMOUS,
    BLOB_READ,
    EXTERNAL_TYPES,
    Grant,
    StorageAccount,
    grants_on_account,
    load_accounts,
    principals,
)
from opencwpp.iam.azure_rbac import Rbac, load_rbac
from opencwpp.lake import Lake

CHECK = "azure_storage_blob_data_readers"
RESOURCE_TYPE = "AzureStorageAccount"
_REMEDIATION = (
    "Disable anonymous access (`az storage account update -n ACCOUNT -g RG "
    "--allow-blob-public-access false`) and shared-key access (`--allow-shared-key-access false`) "
    "once clients use Entra ID; grant Storage Blob Data Reader on the container rather than the "
    "subscription; remove role assignments of other tenants' groups that need no access."
)


def _judge(grants: list[Grant]) -> tuple[Status, Severity, list[str]]:
    reasons = []
    severity = Severity.MEDIUM  # the check's severity, raised when anyone can read
    anonymous = [g for g in grants if g.via == "anonymous"]
    if anonymous:
        names = ", ".join(sorted({str(g.container) for g in anonymous}))
        reasons.append(f"anyone can read anonymously (public containers: {names})")
        severity = Severity.HIGH
    external = principals(g for g in grants if g.principal_type.lower() in EXTERNAL_TYPES)
    if external:
        reasons.append(f"{len(external)} principal(s) of another tenant (ForeignGroup)")
    keys = principals(g for g in grants if g.via == "account-keys")
    if keys:
        reasons.append(f"{len(keys)} principal(s) through the account keys (shared-key access on)")
    return (Status.FAIL if reasons else Status.PASS), severity, reasons


def account_finding(account: StorageAccount, grants: list[Grant]) -> Finding:
    """The finding for one account from its read grants."""
    status, severity, reasons = _judge(grants)
    who = principals(grants)
    named = [p for p in who if p != ANONYMOUS]
    suffix = " incl. anonymous" if ANONYMOUS in who else ""
    title = (
        f"Storage account {account.name} blob data readable by {len(named)} principal(s){suffix}"
    )
    if reasons:
        reason = f"{len(named)} principal(s) can read blob data; " + "; ".join(reasons) + "."
    else:
        reason = f"{len(named)} principal(s) can read blob data, all through Entra ID data roles."
    return Finding(
        check_id=CHECK,
        title=title,
        pillar=Pillar.ACCESS,
        severity=severity,
        status=status,
        resource=ResourceRef(
            account.id, RESOURCE_TYPE, account.subscription_id, account.location, account.name
        ),
        status_reason=reason,
        evidence={
            "action": BLOB_READ,
            "shared_key_access": account.shared_key,
            "blob_public_access": account.blob_public_access,
            "readers": [g.to_row() for g in grants],
        },
        remediation=_REMEDIATION,
    )


def blob_reader_findings(lake: Lake, rbac: Rbac | None = None) -> tuple[list[Finding], list[str]]:
    """A finding per storage account in the lake, and what could not be resolved."""
    rbac = rbac if rbac is not None else load_rbac(lake)
    findings = [
        account_finding(account, grants_on_account(rbac, account, BLOB_READ))
        for _, account in sorted(load_accounts(lake).items())
    ]
    return findings, rbac.warnings


def run_blob_readers(lake: Lake) -> tuple[list[Finding], dict[str, int], list[str]]:
    """Computes the blob-reader findings and stores them with history."""
    findings, warnings = blob_reader_findings(lake)
    run_id = start_run(lake, "azure-blob-access")
    counts = save_findings(lake, run_id, findings, (CHECK,))
    finish_run(lake, run_id, "ok", {"findings": len(findings), **counts})
    return findings, counts, warnings
