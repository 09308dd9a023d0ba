"""The load step: fetch every resource and replace its scope in the lake.

Global resources are fetched once, regional ones per region; each (table, account, region)
outcome is recorded in `cwpp_sync_scopes`.

Fetches run concurrently in a small thread pool (clients are per thread), across accounts when
several are synced; lake writes stay on the calling thread, one transaction per scope, so a failed
sync leaves earlier snapshots whole. Non-ok scopes are readable in the `cwpp_sync_errors` view.

Memory follows pages, not units: a fetch may yield its rows page by page, the worker prepares
each page for the database and, once its unit passes `SPILL_ROWS`, moves it to a JSON-lines file
in a private temporary folder (mode 0700); the writer streams that file into the scope's one
transaction. The file holds exactly the rows the lake gets (already redacted by the transforms)
and is deleted once loaded, when the unit fails, and when the sync stops.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

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
from opencwpp.lake.lake import Batch, Lake, Scope, db_rows
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
# A unit holding more prepared rows than this moves to a spill file; smaller ones (most) stay in
# memory. Prepared rows are compact (JSON as text): a few hundred bytes to a few KB each.
SPILL_ROWS = 1_000
# Rows of one table per spill line, hence per insert statement when the writer streams it back.
_SPILL_BATCH = 1_000
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


class Spill:
    """One unit's prepared rows in a private temporary file: JSON lines, one batch a line.

    The fetch thread writes it, the writer thread streams it back into the lake. Timestamps
    (the only values JSON lacks) are written as ISO text and parsed back by column type.
    """

    def __init__(self, directory: str | Path) -> None:
        fd, name = tempfile.mkstemp(prefix="unit-", suffix=".jsonl", dir=directory)
        self.path = Path(name)
        self._out: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
        self.rows = 0

    def write(self, tbl: Table, values: list[list[Any]]) -> None:
        """Appends prepared rows of one table."""
        if self._out is None:
            raise ValueError(f"spill file {self.path.name} is already closed")
        for start in range(0, len(values), _SPILL_BATCH):
            chunk = values[start : start + _SPILL_BATCH]
            self._out.write(json.dumps([tbl.name, chunk], default=str, ensure_ascii=False))
            self._out.write("\n")
        self.rows += len(values)

    def close(self) -> None:
        """Finishes writing (idempotent)."""
        if self._out is not None:
            self._out.close()
            self._out = None

    def batches(self, tables: Iterable[Table]) -> Iterator[Batch]:
        """The written batches, one at a time, with their timestamps parsed back."""
        self.close()
        by_name = {t.name: t for t in tables}
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                name, values = json.loads(line)
                tbl = by_name[name]
                stamps = [
                    i for i, c in enumerate(tbl.column_names) if tbl.column_type(c) == TIMESTAMP
                ]
                for row in values:
                    for i in stamps:
                        row[i] = _timestamp(row[i])
                yield tbl, values

    def remove(self) -> None:
        """Closes and deletes the file (idempotent)."""
        self.close()
        self.path.unlink(missing_ok=True)


def _timestamp(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # not a time we wrote: the database judges it, as it would have unspilled
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


@dataclass(slots=True)
class Fetched:
    """What a fetch thread hands the writer: the unit's status, and its rows in memory or a file."""

    status: str
    reason: str = ""
    rows: dict[Table, list[list[Any]]] = field(default_factory=dict)
    spill: Spill | None = None

    def batches(self, tables: Iterable[Table]) -> Iterator[Batch]:
        """The unit's prepared rows, batch by batch."""
        if self.spill is not None:
            yield from self.spill.batches(tables)
        else:
            yield from self.rows.items()

    def discard(self) -> None:
        """Drops the rows and deletes the spill file, if any."""
        self.rows = {}
        if self.spill is not None:
            self.spill.remove()


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """The C library's `malloc_trim` (glibc), or None where there is none (musl, macOS …)."""
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None), "malloc_trim", None)


def release_free_memory() -> None:
    """Hands memory that malloc holds free back to the system (glibc; elsewhere a no-op).

    Each fetch thread parses its API pages in its own malloc arena; what a big unit freed stays
    in that arena, where other threads cannot use it, so the process grows by a unit's worth
    per arena. Trimming after each big unit keeps the resident size near what is in use.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _collect(
    resource: Resource, result: Rows | Iterable[Rows], spill_dir: str, sync_time: datetime
) -> Fetched:
    """Prepares a fetch's rows page by page; past `SPILL_ROWS` the unit goes to a spill file.

    Rows of tables the resource does not declare are dropped, as the writer never replaced them.
    """
    pages: Iterable[Rows] = [result] if isinstance(result, dict) else result
    declared = set(resource.tables)
    fetched = Fetched(STATUS_OK)
    held = 0
    try:
        for page in pages:
            for tbl, rows in page.items():
                if not rows or tbl not in declared:
                    continue
                values = db_rows(tbl, rows, sync_time=sync_time)
                if fetched.spill is not None:
                    fetched.spill.write(tbl, values)
                    continue
                fetched.rows.setdefault(tbl, []).extend(values)
                held += len(values)
            del page
            if fetched.spill is None and held > SPILL_ROWS:
                fetched.spill = Spill(spill_dir)
                for tbl, values in fetched.rows.items():
                    fetched.spill.write(tbl, values)
                fetched.rows = {}
        if fetched.spill is not None:
            fetched.spill.close()
    except BaseException:
        fetched.discard()
        raise
    return fetched


def _fetch(
    resource: Resource,
    ctx: SessionContext,
    region: str | None,
    spill_dir: str,
    sync_time: datetime,
) -> Fetched:
    """Runs one fetch to the end, every page: its rows and status. Only bad credentials raise.

    A page that fails fails the unit: what earlier pages gave is discarded (file included), so
    the writer keeps the scope's previous snapshot.
    """
    try:
        return _collect(resource, resource.fetch(ctx, region), spill_dir, sync_time)
    except _UNIT_ERRORS as err:
        cred = credentials_error(err)
        if cred is not None:
            raise cred from err
        reason = not_assessed_reason(err)
        if reason is not None:
            return Fetched(STATUS_NOT_ASSESSED, reason)
        message = str(err).splitlines()[0][:300] if str(err) else ""
        return Fetched(STATUS_FAILED, f"{type(err).__name__}: {message}")


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
    fetched: Fetched,
    run_id: str,
    sync_time: datetime,
) -> ScopeOutcome:
    try:
        if fetched.status != STATUS_OK:
            # The scope's data stays as the last good sync left it; only its status changes.
            with lake.transaction():
                record_scope(
                    lake, resource, scope, fetched.status, fetched.reason, run_id, sync_time
                )
            return ScopeOutcome(
                resource.name, scope.region, fetched.status, fetched.reason, {}, scope.account_id
            )
        # Every declared table takes part, so rows that vanished from the cloud leave the lake.
        lake.ensure_tables(resource.tables)
        with lake.transaction():
            batches = fetched.batches(resource.tables)
            counts = lake.replace_scope_batches(scope, resource.tables, batches)
            record_scope(lake, resource, scope, STATUS_OK, "", run_id, sync_time)
    finally:
        fetched.discard()
    return ScopeOutcome(
        resource.name, scope.region, STATUS_OK, rows=counts, account_id=scope.account_id
    )


SPILL_PREFIX = "cwpp-sync-"
# A spill folder older than this belongs to no running sync: one killed (SIGKILL, power loss)
# could not remove its own.
STALE_SPILL_AGE_S = 24 * 3600


def remove_stale_spill_dirs(now: float | None = None) -> list[Path]:
    """Removes this user's spill folders left by killed syncs; returns those removed."""
    root = Path(tempfile.gettempdir())
    limit = (now if now is not None else time.time()) - STALE_SPILL_AGE_S
    removed = []
    for folder in root.glob(SPILL_PREFIX + "*"):
        try:
            info = folder.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue
            if info.st_mtime < limit:
                shutil.rmtree(folder)
                removed.append(folder)
        except OSError:  # gone meanwhile, or not ours to remove: leave it
            continue
    return removed


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
        # Region by region: the big listings of one resource (EC2 instances ...) in several
        # regions are far apart in the queue, so their pages seldom are in memory together.
        units += [(ctx, r, reg) for reg in target.regions for r in selected if not r.global_service]
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
    pending = iter(units)
    futures: dict[Future[Fetched], Unit] = {}
    # Private (mode 0700) and removed with everything in it however the sync ends; the pool
    # is shut down first, so no fetch thread still writes there.
    remove_stale_spill_dirs()
    with tempfile.TemporaryDirectory(prefix=SPILL_PREFIX) as spill_dir:
        pool = ThreadPoolExecutor(max_workers=workers)

        def submit_next() -> None:
            unit = next(pending, None)
            if unit is not None:
                ctx, resource, region = unit
                future = pool.submit(_fetch, resource, ctx, region, spill_dir, sync_time)
                futures[future] = unit

        try:
            # Only a few units ahead of the writer; each waits as prepared rows (small units)
            # or as a spill file, so memory follows pages and SPILL_ROWS, not the estate.
            for _ in range(workers * _UNITS_AHEAD_PER_WORKER):
                submit_next()
            done = 0
            while futures:
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in finished:
                    ctx, resource, region = futures.pop(future)
                    submit_next()
                    scope = Scope(ctx.account_id, region)
                    fetched = future.result()
                    big = fetched.spill is not None
                    outcome = _load(lake, resource, scope, fetched, report.run_id, sync_time)
                    report.outcomes.append(outcome)
                    if big:
                        release_free_memory()
                    done += 1
                    if progress is not None:
                        label = f"{ctx.account_id}/{resource.name}" if many else resource.name
                        progress(label, region, done, len(units))
                del finished, future, fetched  # written; let them go before the next units
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for future in futures:  # fetched but never written: the sync stopped early
                if future.done() and not future.cancelled() and future.exception() is None:
                    future.result().discard()
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
