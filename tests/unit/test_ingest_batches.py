"""Ingestion batches: at most 64 files, of nearly equal size, in order, none lost."""

from __future__ import annotations

import pytest

from opencwpp.detect.ingest import run


@pytest.mark.parametrize(
    ("files", "sizes"),
    [(0, []), (1, [1]), (64, [64]), (65, [32, 33]), (136, [45, 45, 46]), (200, [50] * 4)],
)
def test_batches_are_even_and_keep_every_file_in_order(files: int, sizes: list[int]) -> None:
    todo = [object() for _ in range(files)]
    batches = run._batches(todo)  # type: ignore[arg-type]
    assert [len(b) for b in batches] == sizes
    assert [item for batch in batches for item in batch] == todo
