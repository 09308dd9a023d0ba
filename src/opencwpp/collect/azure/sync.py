"""The Azure load step: fetch every resource of every subscription, replace its scope.

Units (resource x subscription) are fetched in a bounded thread pool, so subscriptions progress
in parallel; lake writes stay on the calling thread, one transaction per (subscription, resource)
scope, so a failed unit leaves the previous snapshot whole. Each outcome is recorded in the
shared `cwpp_sync_scopes` table (region ''), which checks read to say NOT_ASSESSED.

Most tables carry `subscription_id`, which the lake treats as the account column. Key Vault key
and secret tables have no such column (as in CloudQuery): their scope is the subscription prefix
of the ARM resource id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import AzureError

from opencwpp.collect.azure.base import (
    SOURCE_NAME,
    AzureResource,
    ProviderNotRegistered,
    ReadOnlyViolation,
    Rows,
    load_resources,
    not_assessed_reason,
)
from opencwpp.collect.azure.context import SubscriptionContext, credentials_error
from opencwpp.collect.sync import (
    DEFAULT_WORKERS,
    STATUS_FAILED,
    STATUS_NOT_ASSESSED,
    STATUS_OK,
    SYNC_SCOPES,
    Progress,
    ScopeOutcome,
    SyncFailed,
    SyncReport,
    prepare,
)
from opencwpp.lake.lake import Lake, Scope
from opencwpp.lake.schema import Table, cq_id

# What a fetch raises on an API failure or an answer of unexpected shape: the unit fails (or is
# not assessed, for the expected ones); the others go on.
_UNIT_ERRORS = (
    AzureError,
    ProviderNotRegistered,
    ReadOnlyViolation,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
)
Fetched = tuple[Rows, str, str]


def _select(resources: Iterable[AzureResource | str] | None) -> list[AzureResource]:
    registry = load_resources()
    if resources is None:
        return list(registry)
    return [registry.get(r) if isinstance(r, str) else r for r in resources]


def _fetch(resource: AzureResource, sub: SubscriptionContext) -> Fetched:
    """Runs one fetch: (rows, status, reason). Only unusable credentials raise."""
    try:
        return resource.fetch(sub), STATUS_OK, ""
    except _UNIT_ERRORS as err:
        cred = credentials_error(err)
        if cred is not None:
            raise cred from err
        reason = not_assessed_reason(err)
        if reason is not None:
            return {}, STATUS_NOT_ASSESSED, reason
        lines = str(err).strip().splitlines()
        message = lines[0][:300] if lines else ""
        return {}, STATUS_FAILED, f"{type(err).__name__}: {message}"


def record_azure_scope(
    lake: Lake,
    resource: AzureResource,
    subscription_id: str,
    status: str,
    reason: str,
    run_id: str,
    synced_at: datetime,
) -> None:
    """Sets the status of the resource's tables for one subscription (caller's transaction)."""
    rows: list[dict[str, Any]] = []
    for tbl in resource.own_tables:
        lake.execute(
            'DELETE FROM "cwpp_sync_scopes" WHERE table_name = ? AND account_id = ? AND region = ?',
            (tbl.name, subscription_id, ""),
        )
        rows.append(
            {
                "table_name": tbl.name,
                "account_id": subscription_id,
                "region": "",
                "status": status,
                "reason": reason,
                "synced_at": synced_at,
                "run_id": run_id,
                "resource": resource.name,
                "_cq_source_name": SOURCE_NAME,
                "_cq_sync_time": synced_at,
            }
        )
    lake.insert_rows(SYNC_SCOPES, rows)


def _replace_by_id_prefix(
    lake: Lake, tbl: Table, subscription_id: str, rows: Sequence[dict[str, Any]], at: datetime
) -> int:
    """Replaces a subscription's rows of a table without a subscription column (by ARM id)."""
    prefix = f"/subscriptions/{subscription_id.lower()}/"
    # The length is ours (an int), the prefix a parameter.
    lake.execute(
        f'DELETE FROM "{tbl.name}" WHERE substr(lower("id"), 1, {len(prefix)}) = ?', (prefix,)
    )
    for row in rows:
        if not row.get("_cq_id"):
            row["_cq_id"] = cq_id(row, tbl.cq_id_from or ("id",))
        row["_cq_source_name"] = SOURCE_NAME
        row["_cq_sync_time"] = at
    return lake.insert_rows(tbl, rows)


def replace_subscription(
    lake: Lake, subscription_id: str, rows_by_table: Rows, sync_time: datetime
) -> dict[str, int]:
    """Replaces one subscription's rows of every given table in the caller's transaction."""
    with_column = {t: r for t, r in rows_by_table.items() if t.account_column is not None}
    counts = lake.replace_scope(
        Scope(subscription_id, None), with_column, source_name=SOURCE_NAME, sync_time=sync_time
    )
    at = sync_time.astimezone(UTC).replace(tzinfo=None)
    for tbl, rows in rows_by_table.items():
        if tbl.account_column is None:
            counts[tbl.name] = _replace_by_id_prefix(lake, tbl, subscription_id, rows, at)
    return counts


def _load(
    lake: Lake,
    resource: AzureResource,
    subscription_id: str,
    fetched: Fetched,
    run_id: str,
    sync_time: datetime,
) -> ScopeOutcome:
    rows, status, reason = fetched
    if status != STATUS_OK:
        # The scope's data stays as the last good sync left it; only its status changes.
        with lake.transaction():
            record_azure_scope(lake, resource, subscription_id, status, reason, run_id, sync_time)
        return ScopeOutcome(resource.name, None, status, reason, {}, subscription_id)
    # Every declared table takes part, so rows that vanished from the cloud leave the lake.
    complete = {tbl: rows.get(tbl, []) for tbl in resource.tables}
    lake.ensure_tables(complete)
    with lake.transaction():
        counts = replace_subscription(lake, subscription_id, complete, sync_time)
        record_azure_scope(lake, resource, subscription_id, STATUS_OK, "", run_id, sync_time)
    return ScopeOutcome(resource.name, None, STATUS_OK, rows=counts, account_id=subscription_id)


def sync_azure(
    lake: Lake,
    subscriptions: Sequence[SubscriptionContext],
    resources: Iterable[AzureResource | str] | None = None,
    progress: Progress | None = None,
    *,
    max_workers: int = DEFAULT_WORKERS,
    run_id: str | None = None,
) -> SyncReport:
    """Syncs the selected resources (all by default) of every subscription into the lake.

    An expected error (403, 404, provider not registered) records that scope as not assessed
    and the sync goes on; an unexpected one fails only its unit, and the sync raises
    `SyncFailed` with the report once every other unit is done. Unusable credentials abort
    with CredentialsError.
    """
    selected = _select(resources)
    units = [(sub, r) for sub in subscriptions for r in selected]
    ids = [s.subscription_id for s in subscriptions]
    report = SyncReport(
        run_id=run_id or uuid.uuid4().hex,
        account_id=ids[0] if ids else "",
        regions=[],
        started_at=datetime.now(UTC),
        accounts=ids,
    )
    prepare(lake)
    sync_time = report.started_at
    many = len(subscriptions) > 1
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(units) or 1)))
    try:
        futures: dict[Future[Fetched], tuple[SubscriptionContext, AzureResource]]
        futures = {pool.submit(_fetch, r, sub): (sub, r) for sub, r in units}
        for done, future in enumerate(as_completed(futures), start=1):
            sub, resource = futures[future]
            outcome = _load(
                lake, resource, sub.subscription_id, future.result(), report.run_id, sync_time
            )
            report.outcomes.append(outcome)
            if progress is not None:
                label = f"{sub.subscription_id}/{resource.name}" if many else resource.name
                progress(label, None, done, len(units))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for sub in subscriptions:
            sub.close()
    report.finished_at = datetime.now(UTC)
    if report.failed:
        raise SyncFailed(report)
    return report
