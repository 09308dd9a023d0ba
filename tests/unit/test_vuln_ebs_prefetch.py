"""Fetching ahead: consecutive listed blocks are fetched by a small pool, once each; random
probes fetch nothing extra; a damaged block fetched ahead but never read reports nothing."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from opencwpp.vuln.cloud.ebs_blocks import BlockError, SnapshotReader
from tests.unit.test_vuln_ebs_blocks import BS, FakeEbs


class SlowEbs(FakeEbs):
    """Counts calls from other threads too; blocks wait for `gate` when one is given."""

    def __init__(self, blocks: dict[int, bytes], bad: int | None = None) -> None:
        super().__init__(blocks, page=1000, bad=bad)
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def get_snapshot_block(self, **kw: Any) -> dict[str, Any]:
        with self.lock:
            self.threads.add(threading.current_thread().name)
        return super().get_snapshot_block(**kw)


def _listed() -> dict[int, bytes]:
    # A file's extents: 10-19 contiguous, a hole at 20, then 21-24; and a far block.
    return {i: bytes([i % 256]) * BS for i in [*range(10, 20), *range(21, 25), 900]}


def _read_all(reader: SnapshotReader, start: int, stop: int) -> bytes:
    reader.seek(start * BS)
    return reader.read((stop - start) * BS)


def test_sequential_reads_fetch_ahead_once_each() -> None:
    ebs = SlowEbs(_listed())
    reader = SnapshotReader(ebs, "snap-1", prefetch=3)
    data = _read_all(reader, 10, 25)
    want = b"".join(_listed().get(i, bytes(BS)) for i in range(10, 25))
    assert data == want
    reader.close()
    got = sorted(ebs.gets)
    assert len(got) == len(set(got)), "a block was fetched twice"
    assert set(got) >= set(range(10, 20)) | set(range(21, 25))
    assert set(got) <= set(range(10, 20)) | set(range(21, 25)) | {900}
    assert any(t.startswith("cwpp-ebs") for t in ebs.threads)
    assert reader.fetched == len(got) and reader.failure is None


def test_random_probes_fetch_nothing_ahead() -> None:
    ebs = SlowEbs(_listed())
    reader = SnapshotReader(ebs, "snap-1", prefetch=3)
    for index in (900, 12, 17, 10):  # superblock, inode table, directory: not a file copy
        reader.seek(index * BS)
        reader.read(1)
    reader.close()
    assert ebs.gets == [900, 12, 17, 10]


def test_without_prefetch_nothing_is_fetched_ahead() -> None:
    ebs = SlowEbs(_listed())
    reader = SnapshotReader(ebs, "snap-1")
    _read_all(reader, 10, 14)
    assert ebs.gets == [10, 11, 12, 13] and ebs.threads == {threading.main_thread().name}


def test_damaged_block_fetched_ahead_counts_only_when_read() -> None:
    ebs = SlowEbs(_listed(), bad=15)
    reader = SnapshotReader(ebs, "snap-1", prefetch=4)
    _read_all(reader, 10, 14)  # fetches 14-15 ahead (and so the damaged 15)
    deadline = time.monotonic() + 5
    while 15 not in ebs.gets and time.monotonic() < deadline:
        time.sleep(0.01)  # the pool may still have it queued
    reader.close()
    assert 15 in ebs.gets and reader.failure is None
    ebs = SlowEbs(_listed(), bad=15)
    reader = SnapshotReader(ebs, "snap-1", prefetch=4)
    with pytest.raises(BlockError, match="block 15 checksum mismatch"):
        _read_all(reader, 10, 16)
    reader.close()
    assert reader.failure is not None and "block 15" in str(reader.failure)


def test_blocks_fetched_ahead_are_bounded() -> None:
    # Two short runs far apart: the first run's look-ahead is dropped, never more than 3 kept.
    blocks = {i: bytes([i % 256]) * BS for i in [*range(0, 20), *range(100, 120)]}
    reader = SnapshotReader(SlowEbs(blocks), "snap-1", prefetch=3)
    for start in (0, 100, 5, 110):
        _read_all(reader, start, start + 2)
        assert len(reader._pending) <= 3
    data = _read_all(reader, 0, 20)
    reader.close()
    assert data == b"".join(blocks[i] for i in range(20))
