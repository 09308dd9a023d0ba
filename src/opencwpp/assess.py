"""Assessment: run the analyses over the lake, apply suppressions, keep findings with history.

The work stays in the database. Each check's SELECT becomes a staged table whose status and
resource fields are computed in SQL as `run_check` computes them (`checks.engine.staged_select`;
on a DuckDB file several connections stage checks at once); the mutelist is an UPDATE over the
staged rows; lifecycle and storage are set-based statements in one transaction
(`findings.lifecycle`), which hashes finding ids for new findings only. Python walks the checks
and reads counts back; `result.findings` loads from the lake only when iterated.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import overload

from opencwpp.checks import Check, builtin_checks, run_check
from opencwpp.checks.engine import (
    bad_status_sql,
    raise_bad_status,
    scope_rows_select,
    staged_select,
    unassessable,
)
from opencwpp.checks.views import builtin_views, names_with_views
from opencwpp.core.errors import CheckDefinitionError, UsageError
from opencwpp.core.models import Finding, Severity, Status
from opencwpp.findings import Mutelist, finish_run, load_run_findings, start_run
from opencwpp.findings.lifecycle import save_staged
from opencwpp.findings.staging import CHECK_TABLES_STAGE, CHECKS_STAGE, STAGED, CheckRow, Stage
from opencwpp.lake.lake import Lake

Progress = Callable[[str, int, int], None]


class RunFindings(Sequence[Finding]):
    """The findings one assess run produced, read from the lake when first used.

    Its length and the FAIL counts by severity come from the run itself, so gating on them
    (`failures_at_or_above`) works without loading a million findings, even after the lake
    was closed. Iterating or indexing loads them (the lake must still be open then).
    """

    def __init__(
        self,
        lake: Lake,
        run_id: str,
        check_ids: Sequence[str],
        total: int,
        fail_by_rank: dict[int, int],
    ) -> None:
        self._lake, self._run_id, self._check_ids = lake, run_id, tuple(check_ids)
        self._total, self.fail_by_rank = total, dict(fail_by_rank)
        self._loaded: list[Finding] | None = None

    def _all(self) -> list[Finding]:
        if self._loaded is None:
            self._loaded = load_run_findings(self._lake, self._run_id, self._check_ids)
        return self._loaded

    def __len__(self) -> int:
        return self._total if self._loaded is None else len(self._loaded)

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        return self._all()[index]

    def __iter__(self) -> Iterator[Finding]:
        return iter(self._all())

    def failing_at_or_above(self, threshold: Severity) -> int:
        """How many FAIL findings are at least as severe as `threshold`."""
        return sum(n for rank, n in self.fail_by_rank.items() if rank >= threshold.rank)


@dataclass(frozen=True, slots=True)
class AssessResult:
    """What one assessment found.

    `findings` loads lazily (see `RunFindings`); counts by status and lifecycle are exact.
    `check_seconds` is the wall time each check's SQL took, for finding slow checks;
    `phase_seconds` the time of each step (checks, mutes, duplicates, counts, lifecycle).
    """

    run_id: str
    findings: Sequence[Finding]
    lifecycle_counts: dict[str, int]
    checks_run: int
    by_status: dict[str, int] = field(default_factory=dict)
    check_seconds: dict[str, float] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)


def select_checks(check_ids: Iterable[str] = ()) -> list[Check]:
    """The built-in checks, or only those named (unknown ids are a usage error)."""
    registry = builtin_checks()
    wanted = list(check_ids)
    if not wanted:
        return list(registry)
    unknown = [c for c in wanted if c not in registry]
    if unknown:
        raise UsageError(f"unknown check id(s): {', '.join(unknown)} (see `cwpp checks list`)")
    return [registry.get(c) for c in wanted]


def _check_row(check: Check, seq: int, ran: bool) -> CheckRow:
    meta = check.meta
    return CheckRow(
        check_id=meta.id,
        seq=seq,
        provider=meta.provider,
        service=meta.service,
        ran=ran,
        title=meta.title,
        pillar=meta.pillar.value,
        severity=meta.severity.value,
        severity_rank=meta.severity.rank,
        resource_type=meta.resource_type,
        remediation=meta.remediation,
        compliance=meta.compliance,
        mitre_attack=tuple(meta.mitre_attack),
        tables=tuple(meta.tables),
    )


class _Tally:
    """Progress over every check of the run (SQL or not), then the step that stores findings."""

    def __init__(self, progress: Progress | None, checks: int) -> None:
        self.progress, self.total, self.done = progress, checks + 1, 0

    def step(self, name: str) -> None:
        """Reports `name` as the next step."""
        if self.progress is not None:
            self.progress(name, self.done, self.total)
        self.done += 1


Job = tuple[Check, int]


def _run_selects(
    lake: Lake, stage: Stage, jobs: list[Job], shared: dict[str, str], tally: _Tally
) -> tuple[dict[str, float], list[Job]]:
    """Stages the checks' rows by their SQL, on several connections when the stage is shared.

    Each job renders its check's staging SELECT where it runs (sqlglot parses in Python, a few
    ms a check, while other connections execute theirs). Returns seconds per check, and the
    checks whose output columns only running them would tell (left to `run_check`). A check
    definition error is raised for the first such check in run order.
    """
    seconds: dict[str, float] = {}
    twins: list[Job] = []
    if not stage.shared:
        for check, index in jobs:
            select = staged_select(check, lake.dialect, index, shared)
            if select is None:
                twins.append((check, index))
                continue
            tally.step(check.id)
            started = time.perf_counter()
            stage.add_select(check.id, index, select)
            seconds[check.id] = time.perf_counter() - started
        return seconds, twins
    local = threading.local()
    opened: list[Lake] = []

    def run(job: Job) -> float | CheckDefinitionError | None:
        started = time.perf_counter()
        try:
            select = staged_select(job[0], lake.dialect, job[1], shared)
        except CheckDefinitionError as err:
            return err
        if select is None:
            return None
        if not hasattr(local, "lake"):
            local.lake = Lake.open(lake.url)  # the same DuckDB instance: it sees the stage
            local.lake.execute("SET preserve_insertion_order = false")
            opened.append(local.lake)
        stage.add_select(job[0].id, job[1], select, local.lake)
        return time.perf_counter() - started

    errors: dict[int, CheckDefinitionError] = {}
    try:
        with ThreadPoolExecutor(stage.workers, thread_name_prefix="cwpp-check") as pool:
            futures = {pool.submit(run, job): job for job in jobs}
            for future in as_completed(futures):
                check, index = futures[future]
                outcome = future.result()
                if isinstance(outcome, CheckDefinitionError):
                    errors[index] = outcome
                elif outcome is None:
                    twins.append((check, index))
                else:
                    seconds[check.id] = outcome
                    tally.step(check.id)
    finally:
        for opened_lake in opened:
            opened_lake.close()
    if errors:
        raise errors[min(errors)]
    return seconds, sorted(twins, key=lambda job: job[1])


def _read_by_many(checks: Iterable[Check]) -> list[str]:
    """The views that more than one of `checks` reads (worth computing once for the run)."""
    views = {v.name for v in builtin_views()}
    readers = Counter(t for c in checks for t in set(c.meta.tables) if t in views)
    return sorted(v for v, n in readers.items() if n > 1)


def _stage_checks(lake: Lake, stage: Stage, checks: list[Check], tally: _Tally) -> dict[str, float]:
    """Stages every check's rows; returns seconds per check."""
    present = names_with_views(lake)
    cannot_run = {c.id: unassessable(lake, c, present) for c in checks}
    shared = stage.materialize(_read_by_many([c for c in checks if cannot_run[c.id] is None]))
    python: list[tuple[int, list[Finding]]] = []
    jobs: list[Job] = []
    for index, check in enumerate(checks):
        cannot = cannot_run[check.id]
        if cannot is not None:
            python.append((index, [cannot]))
            tally.step(check.id)
        else:
            jobs.append((check, index))
    seconds, twins = _run_selects(lake, stage, jobs, shared, tally)
    for check, index in twins:  # output columns unknown until run: the Python twin
        python.append((index, run_check(lake, check, present)))
        tally.step(check.id)
    staged = {c.id for c in checks if cannot_run[c.id] is None} - {c.id for c, _ in twins}
    rows = [_check_row(check, index, check.id in staged) for index, check in enumerate(checks)]
    stage.add_findings(python)
    stage.add_checks(rows)
    stage.seal()
    bad = lake.query(bad_status_sql(STAGED, CHECKS_STAGE.name))
    if bad:
        raise_bad_status(lake, next(c for c in checks if c.id == bad[0]["check_id"]))
    if "cwpp_sync_scopes" in present:
        stage.add_rows(scope_rows_select(lake.dialect, CHECKS_STAGE.name, CHECK_TABLES_STAGE.name))
    return seconds


def assess(
    lake: Lake,
    checks: list[Check],
    mutelist: Mutelist | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> AssessResult:
    """Runs the checks, mutes what the mutelist covers, saves the findings as one run.

    `workers` connections run check SQL at once on a DuckDB file (default: one per core).
    """
    run_id = start_run(lake, "assess")
    phases: dict[str, float] = {}
    clock = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name] = now - clock
        clock = now

    stage = Stage(lake, workers or min(4, os.cpu_count() or 1))
    stage.create()
    try:
        tally = _Tally(progress, len(checks))
        seconds = _stage_checks(lake, stage, checks, tally)
        phase("checks")
        tally.step("storing findings")
        if mutelist is not None:
            stage.mute(mutelist)
        phase("mutes")
        counts = stage.counts()
        phase("counts")
        now = datetime.now(UTC).replace(tzinfo=None)
        lifecycle = save_staged(lake, stage, run_id, now, counts.total)
        if stage.deduplicated:
            counts = stage.counts()
        phase("lifecycle")
    finally:
        stage.drop()
    summary = {
        "checks": len(checks),
        "findings": counts.total,
        "by_status": counts.by_status,
        "lifecycle": lifecycle,
        "failing": counts.by_status.get(Status.FAIL.value, 0),
    }
    finish_run(lake, run_id, "ok", summary)
    ids = [c.id for c in checks]
    findings = RunFindings(lake, run_id, ids, counts.total, counts.fail_by_rank)
    phase("finish")
    return AssessResult(run_id, findings, lifecycle, len(checks), counts.by_status, seconds, phases)


def failures_at_or_above(findings: Iterable[Finding], threshold: Severity) -> int:
    """How many FAIL findings are at least as severe as `threshold` (for CI gating)."""
    if isinstance(findings, RunFindings):
        return findings.failing_at_or_above(threshold)
    return sum(1 for f in findings if f.status is Status.FAIL and f.severity.rank >= threshold.rank)
