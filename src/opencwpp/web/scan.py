"""A scan started from the dashboard: `sync` (when AWS settings were given) then `assess`.

One scan at a time runs in a background thread with its own lake connection; its progress is a
`ScanStatus` snapshot the page polls. Sync takes the first half of the bar when it runs, assess
the rest (one step per check). Expected failures (a `CwppError` such as missing credentials, a
failed sync unit, a lake error; botocore errors; OS errors) end the scan as `failed` with their
message; anything else also marks the scan failed, then raises so the server log has the
traceback. A sync whose units partly failed still assesses what was collected, and says so.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from opencwpp.assess import assess, select_checks
from opencwpp.core.errors import CwppError, UsageError
from opencwpp.findings import Mutelist, load_mutelist
from opencwpp.lake.lake import Lake

IDLE, RUNNING, DONE, FAILED = "idle", "running", "done", "failed"
SYNC_SHARE = 50.0  # percent of the bar the sync takes when it runs
_EXPECTED: tuple[type[Exception], ...] = (CwppError, BotoCoreError, ClientError, OSError)


@dataclass(frozen=True, slots=True)
class AwsScan:
    """What the server was started with to sync AWS before assessing (None: assess only)."""

    profile: str | None = None
    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    resources: tuple[str, ...] = ()  # resource names to sync; empty: all


@dataclass(frozen=True, slots=True)
class ScanStatus:
    """A snapshot of the current (or last) scan, as the API returns it."""

    scan_id: str = ""
    state: str = IDLE
    phase: str = ""  # sync | assess | ""
    step: str = ""  # the resource/region or check being worked on
    done: int = 0
    total: int = 0
    percent: float = 0.0
    sync: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    result: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: timestamps as ISO 8601 UTC."""
        return {
            "scan_id": self.scan_id,
            "state": self.state,
            "phase": self.phase,
            "step": self.step,
            "done": self.done,
            "total": self.total,
            "percent": round(self.percent, 1),
            "sync": self.sync,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "error": self.error,
            "warnings": list(self.warnings),
            "result": self.result,
        }


class ScanBusy(UsageError):
    """A scan is already running (HTTP 409)."""


class Scanner:
    """Runs at most one scan at a time over `lake_url` and keeps its latest status."""

    def __init__(self, lake_url: str, mutelist: Path | None, aws: AwsScan | None) -> None:
        self.lake_url = lake_url
        self.mutelist = mutelist
        self.aws = aws
        self._lock = threading.Lock()
        self._status = ScanStatus()
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> ScanStatus:
        """The latest snapshot (immutable, so readers never see half an update)."""
        with self._lock:
            return self._status

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)

    def start(self) -> ScanStatus:
        """Starts a scan in a background thread; `ScanBusy` while one is running."""
        with self._lock:
            if self._status.state == RUNNING:
                raise ScanBusy(f"scan {self._status.scan_id} is still running")
            self._status = ScanStatus(
                scan_id=uuid.uuid4().hex[:12],
                state=RUNNING,
                phase="sync" if self.aws else "assess",
                sync=self.aws is not None,
                started_at=datetime.now(UTC),
            )
            started = self._status
        self._thread = threading.Thread(target=self._run, name="cwpp-scan", daemon=True)
        self._thread.start()
        return started

    def wait(self, timeout: float | None = None) -> ScanStatus:
        """Waits for the running scan's thread (tests and shutdown); returns the status."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status

    def _run(self) -> None:
        finished = False
        try:
            with Lake.open(self.lake_url) as lake:
                if self.aws is not None:
                    self._sync(lake, self.aws)
                self._assess(lake)
            finished = True
        except _EXPECTED as err:
            self._fail(str(err) or type(err).__name__)
            finished = True
        finally:
            if not finished:  # unexpected: shown on the page, then raised to the server log
                self._fail("internal error: see the server log")

    def _fail(self, message: str) -> None:
        first = message.strip().splitlines()[0] if message.strip() else message
        self._update(state=FAILED, error=first, finished_at=datetime.now(UTC))

    def _sync(self, lake: Lake, aws: AwsScan) -> None:
        from opencwpp.collect.aws.session import AwsContext
        from opencwpp.collect.sync import SyncFailed, sync_aws

        def progress(resource: str, region: str | None, done: int, total: int) -> None:
            share = SYNC_SHARE * done / total if total else 0.0
            step = f"{resource} {region or 'global'}"
            self._update(step=step, done=done, total=total, percent=share)

        context = AwsContext.create(aws.profile, endpoint_url=aws.endpoint_url)
        regions = context.validate_regions(aws.regions) if aws.regions else []
        regions = regions or context.enabled_regions()
        try:
            report = sync_aws(lake, context, regions, aws.resources or None, progress=progress)
            problems = [
                f"not assessed: {o.resource} {o.region or 'global'}: {o.reason}"
                for o in report.not_assessed
            ]
        except SyncFailed as failed:  # some units failed: assess what was collected, say so
            problems = [f"sync failed: {line}" for line in failed.report.failure_lines()]
        self._update(warnings=tuple(problems[:50]), percent=SYNC_SHARE)

    def _mutelist(self) -> Mutelist | None:
        if self.mutelist is None or not self.mutelist.exists():
            return None
        return load_mutelist(self.mutelist)

    def _assess(self, lake: Lake) -> None:
        base = SYNC_SHARE if self.aws is not None else 0.0
        self._update(phase="assess", step="", done=0, total=0, percent=base)

        def progress(check_id: str, index: int, total: int) -> None:
            share = (100.0 - base) * index / total if total else 0.0
            self._update(step=check_id, done=index, total=total, percent=base + share)

        result = assess(lake, select_checks(), self._mutelist(), progress=progress)
        failing = result.by_status.get("FAIL", 0)
        self._update(
            state=DONE,
            phase="",
            step="",
            done=result.checks_run,
            total=result.checks_run,
            percent=100.0,
            finished_at=datetime.now(UTC),
            result={
                "run_id": result.run_id,
                "checks": result.checks_run,
                "findings": len(result.findings),
                "failing": failing,
                "by_status": dict(result.by_status),
                "lifecycle": dict(result.lifecycle_counts),
            },
        )
