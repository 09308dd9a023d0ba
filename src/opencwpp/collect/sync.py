"""The load step: fetch every resource and replace its scope in the lake.

Global resources are fetched once, regional ones per region; each (table, account, region)
outcome is recorded in `cwpp_sync_scopes`.

Fetches run concurrently in a small thread pool (clients are per thread), across accounts when
several are synced; lake writes stay on the calling thread, one transaction per scope, so a failed
sync leaves earlier snapshots whole. Non-ok scopes are readable in the `cwpp_sync_errors` view.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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
from opencwpp.core.errors import CwppError
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
STATUS_FAILED = "failed"
DEFAULT_WORKERS = 8
_UNITS_AHEAD_PER_WORKER = 2
# What the pool fetches: one resource of one account in one region (None: a global service).
Unit = tuple[SessionContext, Resource, str | None]
# The expected failures of a scope (table, account, region), one row each: what the issue calls
# `cwpp_sync_errors`. A view, so it never disagrees with `cwpp_sync_scopes`.
SYNC_ERRORS_VIEW = "cwpp_sync_errors"
_ERRORS_VIEW_SQL = (
    f'CREATE OR REPLACE VIEW "{SYNC_ERRORS_VIEW}" AS SELECT account_id, region, table_name, '
    "resource, status, reason, synced_at, run_id FROM cwpp_sync_scopes WHERE status <> 'ok'"
)
# What a fetch raises on an API failure or an answer of unexpected shape. One unit failing this
# way does not stop the others: the unit keeps its previous snapshot, the sync ends in SyncFailed.
_API_ERRORS = (ClientError, BotoCoreError, ResponseParserError)
_UNIT_ERRORS = (*_API_ERRORS, KeyError, ValueError, TypeError, AttributeError, IndexError)

Progress = Callable[[str, str | None, int, int], None]
"""`progress(resource_name, region, done, total)`, called after each unit is loaded.

With several accounts, `resource_name` is `<account>/<resource>`."""


@dataclass(frozen=True, slots=True)
class ScopeOutcome:
    """What happened to one resource in one region (None: global) of one account."""

    resource: str
    region: str | None
    status: str
    reason: str = ""
    rows: dict[str, int] = field(default_factory=dict)
    account_id: str = ""


@dataclass(frozen=True, slots=True)
class SyncTarget:
    """One account to sync: its session context and its regions."""

    context: SessionContext
    regions: Sequence[str]


@dataclass(slots=True)
class SyncReport:
    """The result of one sync run (one account, or several into the same lake)."""

    run_id: str
    account_id: str
    regions: list[str]
    started_at: datetime
    finished_at: datetime | None = None
    outcomes: list[ScopeOutcome] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    # Accounts that could not be reached at all (role not assumable), with the reason.
    account_failures: dict[str, str] = field(default_factory=dict)

    @property
    def not_assessed(self) -> list[ScopeOutcome]:
        """The units that could not be assessed (denied, not available), with reasons."""
        return [o for o in self.outcomes if o.status == STATUS_NOT_ASSESSED]

    @property
    def failed(self) -> list[ScopeOutcome]:
        """The units whose fetch raised an unexpected error (their old snapshot stays)."""
        return [o for o in self.outcomes if o.status == STATUS_FAILED]

    @property
    def rows_written(self) -> int:
        """Rows written over all tables."""
        return sum(sum(o.rows.values()) for o in self.outcomes)

    def failure_lines(self) -> list[str]:
        """One line per failed account and per failed unit."""
        lines = [f"account {a}: {r}" for a, r in sorted(self.account_failures.items())]
        lines += [
            f"{o.account_id} {o.resource} {o.region or 'global'}: {o.reason}" for o in self.failed
        ]
        return lines


class SyncFailed(CwppError):
    """The sync finished, but some accounts or units failed; the report says which."""

    def __init__(self, report: SyncReport) -> None:
        self.report = report
        lines = report.failure_lines()
        shown = "; ".join(lines[:3]) + (f"; and {len(lines) - 3} more" if len(lines) > 3 else "")
        super().__init__(f"sync incomplete, {len(lines)} failure(s): {shown}")


def _select(resources: Iterable[Resource | str] | None) -> list[Resource]:
    registry = load_resources()
    if resources is None:
        return list(registry)
    return [registry.get(r) if isinstance(r, str) else r for r in resources]


def _fetch(resource: Resource, ctx: SessionContext, region: str | None) -> tuple[Rows, str, str]:
    """Runs one fetch: (rows, status, reason). Only unusable credentials raise."""
    try:
        return resource.fetch(ctx, region), STATUS_OK, ""
    except _UNIT_ERRORS as err:
        cred = credentials_error(err)
        if cred is not None:
            raise cred from err
        reason = not_assessed_reason(err)
        if reason is not None:
            return {}, STATUS_NOT_ASSESSED, reason
        message = str(err).splitlines()[0][:300] if str(err) else ""
        return {}, STATUS_FAILED, f"{type(err).__name__}: {message}"


def record_scope(
    lake: Lake,
    resource: Resource,
    scope: Scope,
    status: str,
    reason: str,
    run_id: str,
    synced_at: datetime,
) -> None:
    """Sets the status of the resource's own tables in one scope (the caller's transaction)."""
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
    fetched: tuple[Rows, str, str],
    run_id: str,
    sync_time: datetime,
) -> ScopeOutcome:
    rows, status, reason = fetched
    if status != STATUS_OK:
        # The scope's data stays as the last good sync left it; only its status changes.
        with lake.transaction():
            record_scope(lake, resource, scope, status, reason, run_id, sync_time)
        return ScopeOutcome(resource.name, scope.region, status, reason, {}, scope.account_id)
    # Every declared table takes part, so rows that vanished from the cloud leave the lake.
    complete = {tbl: rows.get(tbl, []) for tbl in resource.tables}
    lake.ensure_tables(complete)
    with lake.transaction():
        counts = lake.replace_scope(scope, complete, sync_time=sync_time)
        record_scope(lake, resource, scope, STATUS_OK, "", run_id, sync_time)
    return ScopeOutcome(
        resource.name, scope.region, STATUS_OK, rows=counts, account_id=scope.account_id
    )


def prepare(lake: Lake) -> None:
    """Creates the sync bookkeeping table and its `cwpp_sync_errors` view."""
    lake.ensure_tables([SYNC_SCOPES])
    lake.execute(_ERRORS_VIEW_SQL)


def sync_targets(
    lake: Lake,
    targets: Sequence[SyncTarget],
    resources: Iterable[Resource | str] | None = None,
    progress: Progress | None = None,
    *,
    max_workers: int = DEFAULT_WORKERS,
    run_id: str | None = None,
    account_failures: Mapping[str, str] | None = None,
) -> SyncReport:
    """Syncs the selected resources (all by default) of every target account into the lake.

    Units (resource x region x account) are fetched in one bounded thread pool, so accounts
    progress in parallel; writes stay on this thread, one transaction per scope. An expected
    error records its scope not assessed; an unexpected one in a unit leaves that unit's previous
    snapshot, lets the others finish, and ends the sync in `SyncFailed` (as do unreachable
    accounts, passed in `account_failures`). Unusable credentials abort (CredentialsError).
    """
    selected = _select(resources)
    units: list[Unit] = []
    for target in targets:
        ctx = target.context
        units += [(ctx, r, None) for r in selected if r.global_service]
        units += [(ctx, r, reg) for r in selected if not r.global_service for reg in target.regions]
    accounts = [t.context.account_id for t in targets]
    report = SyncReport(
        run_id=run_id or uuid.uuid4().hex,
        account_id=accounts[0] if accounts else "",
        regions=sorted({reg for t in targets for reg in t.regions}),
        started_at=datetime.now(UTC),
        accounts=accounts,
        account_failures=dict(account_failures or {}),
    )
    prepare(lake)
    sync_time = report.started_at
    many = len(targets) > 1
    workers = max(1, min(max_workers, len(units) or 1))
    pool = ThreadPoolExecutor(max_workers=workers)
    pending = iter(units)
    futures: dict[Future[tuple[Rows, str, str]], Unit] = {}

    def submit_next() -> None:
        unit = next(pending, None)
        if unit is not None:
            ctx, resource, region = unit
            futures[pool.submit(_fetch, resource, ctx, region)] = unit

    try:
        # Only a few units ahead of the writer: fetched rows wait in memory until written, so
        # memory follows the largest units, not the size of the estate.
        for _ in range(workers * _UNITS_AHEAD_PER_WORKER):
            submit_next()
        done = 0
        while futures:
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                ctx, resource, region = futures.pop(future)
                submit_next()
                scope = Scope(ctx.account_id, region)
                outcome = _load(lake, resource, scope, future.result(), report.run_id, sync_time)
                report.outcomes.append(outcome)
                done += 1
                if progress is not None:
                    label = f"{ctx.account_id}/{resource.name}" if many else resource.name
                    progress(label, region, done, len(units))
            del finished, future  # their rows are written; let them go before the next units
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    report.finished_at = datetime.now(UTC)
    if report.failed or report.account_failures:
        raise SyncFailed(report)
    return report


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
    scope as not assessed and the sync goes on; an unexpected one fails only its unit, and the
    sync raises `SyncFailed` with the report once every other unit is done.
    """
    target = SyncTarget(session_context, list(regions))
    return sync_targets(lake, [target], resources, progress, max_workers=max_workers, run_id=run_id)
