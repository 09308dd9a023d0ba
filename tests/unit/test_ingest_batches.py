"""Ingestion batches: as few as the bounds allow, of nearly equal length, in order, none lost;
their remote files downloaded at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from opencwpp.detect.ingest import run
from opencwpp.detect.ingest.sources import FetchError, SourceFile

MIB = 1024 * 1024


def _files(count: int, size: int) -> list[SourceFile]:
    return [SourceFile(f"f{i}", size, "", fetch=bytes) for i in range(count)]


@pytest.mark.parametrize(
    ("files", "size", "lengths"),
    [
        (0, 0, []),
        (1, 0, [1]),  # empty files still make a batch
        (1, 500 * MIB, [1]),  # a file over the byte bound is a batch of its own
        (1024, 1, [1024]),
        (1025, 1, [512, 513]),
        (200, int(1.15 * MIB), [100, 100]),  # the bench's 1,000,000 events: 229 MB of gzip
        (3000, 20 * 1024, [1000, 1000, 1000]),  # a trail's small files: bounded by count
        (10, 64 * MIB, [2, 2, 2, 2, 2]),  # bounded by bytes
    ],
)
def test_batches_are_few_even_and_keep_every_file_in_order(
    files: int, size: int, lengths: list[int]
) -> None:
    todo = _files(files, size)
    batches = run._batches(todo)
    assert [len(b) for b in batches] == lengths
    assert [item for batch in batches for item in batch] == todo
    assert all(
        len(b) <= run._BATCH_FILES
        and (len(b) == 1 or sum(f.size for f in b) <= run._BATCH_BYTES + b[0].size)
        for b in batches
    )


def test_files_read_in_python_are_batched_by_smaller_counts() -> None:
    todo = _files(200, 1)
    assert [len(b) for b in run._batches(todo, run._PYTHON_BATCH_FILES)] == [50] * 4
    assert [len(b) for b in run._batches(todo)] == [200]


def test_remote_files_of_a_batch_are_downloaded_at_once(tmp_path: Path) -> None:
    together = threading.Barrier(3, timeout=10)  # broken if the three are fetched in turn

    def fetch(n: int) -> Callable[[], bytes]:
        def read() -> bytes:
            together.wait()
            if n == 1:
                raise FetchError("cannot read s3://b/1: NoSuchKey")
            return b'{"Records": []}'

        return read

    batch = [SourceFile(f"s3://b/{n}", 10, "", fetch=fetch(n)) for n in range(3)]
    local, failed = run._local_copies(batch, tmp_path)
    assert [(f.uri, f.outcome, f.error) for f in failed] == [
        ("s3://b/1", run.FAILED, "cannot read: cannot read s3://b/1: NoSuchKey")
    ]
    assert [(f.uri, f.downloaded, f.path.read_bytes()) for f in local] == [
        ("s3://b/0", True, b'{"Records": []}'),
        ("s3://b/2", True, b'{"Records": []}'),
    ]
