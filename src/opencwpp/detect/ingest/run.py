"""Ingestion: sources → `aws_cloudtrail_events`, idempotent, incremental, with a per-file report.

A file already ingested with the same size and etag is skipped. A file that cannot be read
(corrupt gzip, truncated or invalid JSON, nothing CloudTrail in it) is reported as failed and
NOT remembered, so the next run tries it again; records inside a readable file that are not
usable (not CloudTrail, over the size cap) are counted per reason and the file is done.
"""

from __future__ import annotations

import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from opencwpp.detect.ingest import bulk
from opencwpp.detect.ingest.records import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
    BadFile,
    Limits,
    parse_file,
    too_big,
)
from opencwpp.detect.ingest.sources import SourceFile
from opencwpp.detect.ingest.table import INGEST_STATE, drop_event_key, events_table
from opencwpp.detect.ingest.writer import done_files, insert_events, mark_done
from opencwpp.lake.lake import Lake

INGESTED, PARTIAL, SKIPPED, FAILED = "ingested", "partial", "skipped", "failed"
_BATCH_FILES = 1024
_BATCH_BYTES = 128 * 1024 * 1024
# Files read one by one in Python are remembered as done (and shown) this many at a time.
_PYTHON_BATCH_FILES = 64
# Remote files (S3 objects, LookupEvents windows) fetched at once; boto3's clients are
# thread-safe and its default pool keeps 10 connections a client.
_DOWNLOADS = 10


def _batches(todo: list[SourceFile], max_files: int = _BATCH_FILES) -> list[list[SourceFile]]:
    """The files in as few batches of (nearly) equal length as the bounds allow.

    A batch holds at most `max_files` files and, files of like size, about `_BATCH_BYTES`
    bytes (as stored: gzip compressed). Each batch is one statement that DuckDB runs on both
    cores, but its start and end leave a core idle for a while (1,000,000 events in 200
    files: 1.7 cores busy in four batches, 1.93 in two). A small last batch was costly too:
    its commit grew with the table.
    """
    size = sum(src.size for src in todo)
    count = min(len(todo), max(-(-len(todo) // max_files), -(-size // _BATCH_BYTES), 1))
    return [todo[i * len(todo) // count : (i + 1) * len(todo) // count] for i in range(count)]


@dataclass
class FileOutcome:
    """What happened to one file."""

    uri: str
    outcome: str
    read: int = 0
    inserted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    error: str = ""

    @property
    def duplicates(self) -> int:
        """Valid records whose eventID was already in the lake (or earlier in the run)."""
        return self.read - self.inserted - sum(self.rejected.values())


@dataclass
class IngestReport:
    """Per-file outcomes of one ingestion, and totals."""

    files: list[FileOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """How many files ended with this outcome."""
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def inserted(self) -> int:
        """New events stored."""
        return sum(f.inserted for f in self.files)

    @property
    def read(self) -> int:
        """Records read."""
        return sum(f.read for f in self.files)

    @property
    def rejected(self) -> int:
        """Records not stored because they were not usable."""
        return sum(sum(f.rejected.values()) for f in self.files)


def _judge(outcome: FileOutcome) -> FileOutcome:
    usable = outcome.read - sum(outcome.rejected.values())
    if outcome.error:
        outcome.outcome = FAILED
    elif outcome.read and not usable:
        outcome.outcome = FAILED
        outcome.error = "no CloudTrail records in the file"
    elif outcome.rejected:
        outcome.outcome = PARTIAL
    else:
        outcome.outcome = INGESTED
    return outcome


def _python_path(lake: Lake, src: SourceFile, item: bulk.LocalFile, limits: Limits) -> FileOutcome:
    """Reads one file in Python, from its path on disk (a downloaded file's local copy)."""
    outcome = FileOutcome(src.uri, FAILED)
    try:
        if item.path.stat().st_size > limits.file_bytes:  # larger still once decompressed
            outcome.error = too_big(limits.file_bytes)
            return outcome
        data = item.path.read_bytes()
        parsed = parse_file(data, src.uri, limits.record_bytes, limits.file_bytes)
    except BadFile as err:
        outcome.error = str(err)
        return outcome
    except OSError as err:
        outcome.error = f"cannot read: {err}"
        return outcome
    outcome.read = len(parsed.rows) + sum(parsed.rejected.values())
    outcome.rejected = parsed.rejected
    outcome.error = parsed.error
    with lake.transaction():
        outcome.inserted = insert_events(lake, parsed.rows)
    return _judge(outcome)


def _bulk_group(lake: Lake, group: list[bulk.LocalFile], limits: Limits) -> list[FileOutcome]:
    counts = bulk.load_batch(lake, group, limits.record_bytes, limits.file_bytes)
    return [
        FileOutcome(f.uri, FAILED, error=counts.failed[f.uri])
        if f.uri in counts.failed
        else _judge(
            FileOutcome(
                f.uri,
                INGESTED,
                read=counts.read[f.uri],
                inserted=counts.inserted[f.uri],
                rejected=counts.rejected.get(f.uri, Counter()),
            )
        )
        for f in group
    ]


def _bisect(
    lake: Lake, group: list[bulk.LocalFile], by_uri: dict[str, SourceFile], limits: Limits
) -> list[FileOutcome]:
    """Loads a group in bulk, splitting it when it fails until the bad file is alone.

    One bad file spoils a batch; alone, it is read in Python, which says what is wrong with it.
    """
    try:
        return _bulk_group(lake, group, limits)
    except (duckdb.Error, ValueError, OSError, EOFError, zlib.error):
        if len(group) == 1:
            item = group[0]
            return [_python_path(lake, by_uri[item.uri], item, limits)]
    half = len(group) // 2
    return _bisect(lake, group[:half], by_uri, limits) + _bisect(lake, group[half:], by_uri, limits)


def _local_copies(
    batch: list[SourceFile], tmp: Path
) -> tuple[list[bulk.LocalFile], list[FileOutcome]]:
    """The batch's files on disk, and a failed outcome for each that could not be read.

    Remote files are downloaded into `tmp`, `_DOWNLOADS` at a time: an S3 object is a round
    trip of tens of milliseconds for a few kilobytes, so one after the other, a day of a busy
    trail (thousands of objects) spent most of its time waiting.
    """

    def fetch(index: int) -> OSError | None:
        try:
            (tmp / f"{index}.json").write_bytes(batch[index].read())
        except OSError as err:
            return err
        return None

    remote = [i for i, src in enumerate(batch) if src.local_path is None]
    errors: dict[int, OSError | None] = {}
    if remote:
        with ThreadPoolExecutor(max_workers=min(_DOWNLOADS, len(remote))) as pool:
            errors = dict(zip(remote, pool.map(fetch, remote), strict=True))
    local: list[bulk.LocalFile] = []
    failed: list[FileOutcome] = []
    for index, src in enumerate(batch):
        err = errors.get(index)
        if err is not None:
            failed.append(FileOutcome(src.uri, FAILED, error=f"cannot read: {err}"))
        else:
            path = src.local_path or tmp / f"{index}.json"
            local.append(bulk.LocalFile(src.uri, path, downloaded=src.local_path is None))
    return local, failed


def _python_batch(
    lake: Lake, batch: list[SourceFile], limits: Limits, tmp: Path
) -> list[FileOutcome]:
    local, outcomes = _local_copies(batch, tmp)
    by_uri = {s.uri: s for s in batch}
    for item in local:
        outcomes.append(_python_path(lake, by_uri[item.uri], item, limits))
    return outcomes


def _duckdb_batch(
    lake: Lake, batch: list[SourceFile], limits: Limits, tmp: Path
) -> list[FileOutcome]:
    local, outcomes = _local_copies(batch, tmp)
    by_uri = {s.uri: s for s in batch}
    groups: dict[tuple[str, str], list[bulk.LocalFile]] = {}
    for item in local:
        try:
            fmt, compression, _ = bulk.sniff(item.path)
        except (OSError, EOFError):  # unreadable or corrupt gzip: Python says which
            outcomes.append(_python_path(lake, by_uri[item.uri], item, limits))
            continue
        groups.setdefault((fmt, compression), []).append(item)
    for group in groups.values():
        outcomes.extend(_bisect(lake, group, by_uri, limits))
    return outcomes


def ingest(
    lake: Lake,
    sources: Iterable[SourceFile],
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    force: bool = False,
    fast: bool = True,
    progress: Callable[[FileOutcome], None] | None = None,
) -> IngestReport:
    """Ingests every source file not done yet; returns the per-file report.

    `progress` is called with each file's outcome as it is known (files already done first).
    """
    lake.ensure_tables([events_table(lake.dialect), INGEST_STATE])
    if fast:
        drop_event_key(lake)
    done = {} if force else done_files(lake)
    report = IngestReport()
    todo: list[SourceFile] = []
    for src in sources:
        if done.get(src.uri) == (src.size, src.etag):
            report.files.append(FileOutcome(src.uri, SKIPPED))
            if progress is not None:
                progress(report.files[-1])
        else:
            todo.append(src)
    by_uri = {s.uri: s for s in todo}
    limits = Limits(max_record_bytes, max_file_bytes)
    bulk_path = fast and lake.dialect == "duckdb"
    with tempfile.TemporaryDirectory(prefix="cwpp-ingest-") as tmp:
        for batch in _batches(todo, _BATCH_FILES if bulk_path else _PYTHON_BATCH_FILES):
            if bulk_path:
                outcomes = _duckdb_batch(lake, batch, limits, Path(tmp))
            else:
                outcomes = _python_batch(lake, batch, limits, Path(tmp))
            for download in Path(tmp).iterdir():  # up to `_BATCH_BYTES` a batch, not a trail
                download.unlink()
            now = datetime.now(UTC).replace(tzinfo=None)
            mark_done(
                lake,
                [
                    {
                        "source_uri": o.uri,
                        "size": by_uri[o.uri].size,
                        "etag": by_uri[o.uri].etag,
                        "events": o.inserted,
                        "rejected": sum(o.rejected.values()),
                        "outcome": o.outcome,
                        "ingested_at": now,
                    }
                    for o in outcomes
                    if o.outcome in (INGESTED, PARTIAL)
                ],
            )
            for outcome in outcomes:
                report.files.append(outcome)
                if progress is not None:
                    progress(outcome)
    return report
