"""The load step: fetch every resource and replace its scope in the lake.

Global resources are fetched once, regional ones per region; each (table, account, region)
outcome is recorded in `cwpp_sync_scopes`.

Fetches run concurrently in a small thread pool (clients are per thread); lake writes stay on
the calling thread, one transaction per scope, so a failed sync leaves earlier snapshots whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from opencwpp.collect.aws.session import credentials_error
from opencwpp.collect.base import (
    Resource,
    Rows,
    SessionContext,
    load_resources,
    not_assessed_reason,
)
from opencwpp.lake.lake import Lake, Scope
from opencwpp.lake.schema import TIMESTAMP, Column, Table

SYNC_SCOPES = Table(
    name="cwpp_sync_scopes",
    columns=(
        Column("table_name"),
        Column("account_id"),
        Column("region"),
        Column("status"),
        Column("reason"),
        Column("synced_at", TIMESTAMP),
        Column("run_id"),
        Column("resource"),
    ),
    primary_key=("table_name", "account_id", "region"),
    description="What the last sync of each (table, account, region) found: ok or not assessed.",
)
STATUS_OK = "ok"
STATUS_NOT_ASSESSED = "not_assessed"
DEFAULT_WORKERS = 8

Progress = Callable[[str, str | None, int, int], None]
"""`progress(resource_name, region, done, total)`, called after each unit is loaded."""


@dataclass(frozen=True, slots=True)
class ScopeOutcome:
    """What happened to one resource in one region (None: global)."""

    resource: str
    region: str | None
    status: str
    reason: str = ""
    rows: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class SyncReport:
    """The result of one sync run."""

    run_id: str
    account_id: str
    regions: list[str]
    started_at: datetime
    finished_at: datetime | None = None
    outcomes: list[ScopeOutcome] = field(default_factory=list)

    @property
    def not_assessed(self) -> list[ScopeOutcome]:
        """The units that could not be assessed (denied, not available), with reasons."""
        return [o for o in self.outcomes if o.status == STATUS_NOT_ASSESSED]

    @property
    def rows_written(self) -> int:
        """Rows written over all tables."""
        return sum(sum(o.rows.values()) for o in self.outcomes)


def _select(resources: Iterable[Resource | str] | None) -> list[Resource]:
    registry = load_resources()
    if resources is None:
        return list(registry)
    return [registry.get(r) if isinstance(r, str) else r for r in resources]


def _fetch(resource: Resource, ctx: SessionContext, region: str | None) -> tuple[Rows, str]:
    """Runs one fetch; an expected error gives no rows and the reason, others raise."""
    try:
        return resource.fetch(ctx, region), ""
    except (ClientError, BotoCoreError, ResponseParserError) as err:
        cred = credentials_error(err)
        if cred is not None:
            raise cred from err
        reason = not_assessed_reason(err)
        if reason is None:
            raise
        return {}, reason


def _record(
    lake: Lake,
    resource: Resource,
    scope: Scope,
    status: str,
    reason: str,
    run_id: str,
    synced_at: datetime,
) -> None:
    rows: list[dict[str, Any]] = []
    for tbl in resource.own_tables:
        key = (tbl.name, scope.account_id, scope.region_key)
        lake.execute(
            'DELETE FROM "cwpp_sync_scopes" WHERE table_name = ? AND account_id = ? AND region = ?',
            key,
        )
        rows.append(
            {
                "table_name": tbl.name,
                "account_id": scope.account_id,
                "region": scope.region_key,
                "status": status,
                "reason": reason,
                "synced_at": synced_at,
                "run_id": run_id,
                "resource": resource.name,
                "_cq_source_name": "aws",
                "_cq_sync_time": synced_at,
            }
        )
    lake.insert_rows(SYNC_SCOPES, rows)


def _load(
    lake: Lake,
    resource: Resource,
    scope: Scope,
    fetched: tuple[Rows, str],
    run_id: str,
    sync_time: datetime,
) -> ScopeOutcome:
    rows, reason = fetched
    if reason:
        with lake.transaction():
            _record(lake, resource, scope, STATUS_NOT_ASSESSED, reason, run_id, sync_time)
        return ScopeOutcome(resource.name, scope.region, STATUS_NOT_ASSESSED, reason)
    # Every declared table takes part, so rows that vanished from the cloud leave the lake.
    complete = {tbl: rows.get(tbl, []) for tbl in resource.tables}
    lake.ensure_tables(complete)
    with lake.transaction():
        counts = lake.replace_scope(scope, complete, sync_time=sync_time)
        _record(lake, resource, scope, STATUS_OK, "", run_id, sync_time)
    return ScopeOutcome(resource.name, scope.region, STATUS_OK, rows=counts)


def sync_aws(
    lake: Lake,
    session_context: SessionContext,
    regions: Sequence[str],
    resources: Iterable[Resource | str] | None = None,
    progress: Progress | None = None,
    *,
    max_workers: int = DEFAULT_WORKERS,
    run_id: str | None = None,
) -> SyncReport:
    """Syncs the selected resources (all by default) of one AWS account into the lake.

    Global resources (IAM, S3) are fetched once with region None, regional ones per region.
    An expected error (access denied, opt-in region, service not available) records that
    scope as not assessed and the sync goes on; any other error raises.
    """
    selected = _select(resources)
    account_id = session_context.account_id
    units: list[tuple[Resource, str | None]] = [(r, None) for r in selected if r.global_service]
    units += [(r, reg) for r in selected if not r.global_service for reg in regions]
    report = SyncReport(
        run_id=run_id or uuid.uuid4().hex,
        account_id=account_id,
        regions=list(regions),
        started_at=datetime.now(UTC),
    )
    lake.ensure_tables([SYNC_SCOPES])
    sync_time = report.started_at
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(units))))
    try:
        futures: dict[Future[tuple[Rows, str]], tuple[Resource, str | None]] = {
            pool.submit(_fetch, resource, session_context, region): (resource, region)
            for resource, region in units
        }
        for done, future in enumerate(as_completed(futures), start=1):
            resource, region = futures[future]
            scope = Scope(account_id, region)
            outcome = _load(lake, resource, scope, future.result(), report.run_id, sync_time)
            report.outcomes.append(outcome)
            if progress is not None:
                progress(resource.name, region, done, len(units))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    report.finished_at = datetime.now(UTC)
    return report
