"""Ingestion batches: as few as the bounds allow, of nearly equal length, in order, none lost."""

from __future__ import annotations

import pytest

from opencwpp.detect.ingest import run
from opencwpp.detect.ingest.sources import SourceFile

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
