"""An EBS snapshot as a lazy, random-access, read-only file (EBS direct APIs).

ListSnapshotBlocks (paged) says which blocks hold data; GetSnapshotBlock fetches one block when a
read first touches it, checks its SHA256 checksum and keeps a bounded number in memory. Blocks
not listed read as zeros, so an 8 GiB volume with a few MB in use is read only where the file
system parser points. When reads walk through consecutive listed blocks (a file being copied),
the next few listed blocks are fetched ahead by a small thread pool: each GetSnapshotBlock is
a round trip, and a file's extents are mostly contiguous.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import io
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from opencwpp.collect.aws.session import credentials_error
from opencwpp.core.errors import CwppError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# Encrypted snapshots also need kms:Decrypt on their key; GetSnapshotBlock refuses without it
# and the snapshot is reported as not readable.
EBS_BLOCK_SIZE = 512 * 1024  # what the EBS direct APIs always use
GIB = 1024**3
DEFAULT_CACHE_BLOCKS = 64  # 32 MiB
PREFETCH_WORKERS = 4


class BlockError(CwppError):
    """A snapshot block that could not be read or failed its checksum."""


def _api(action: str, snapshot_id: str, err: ClientError | BotoCoreError) -> BlockError:
    """A one-line error for a refused call; unusable credentials raise (every call would fail)."""
    fatal = credentials_error(err)
    if fatal is not None:
        raise fatal from None
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        why = f"{error.get('Code', '?')} ({error.get('Message', '')})"
    else:
        why = type(err).__name__
    return BlockError(f"{snapshot_id}: {action} refused: {why}")


def list_blocks(client: Any, snapshot_id: str) -> tuple[dict[int, str], int, int]:
    """(block index -> token, volume size in bytes, block size) through every page."""
    tokens: dict[int, str] = {}
    kwargs: dict[str, Any] = {"SnapshotId": snapshot_id, "MaxResults": 10_000}
    volume_gib, block_size = 0, 0
    while True:
        try:
            page = client.list_snapshot_blocks(**kwargs)
        except (ClientError, BotoCoreError) as err:
            raise _api("ListSnapshotBlocks", snapshot_id, err) from None
        volume_gib = int(page.get("VolumeSize") or volume_gib)
        block_size = int(page.get("BlockSize") or block_size)
        for block in page.get("Blocks") or []:
            tokens[int(block["BlockIndex"])] = str(block["BlockToken"])
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    return tokens, volume_gib * GIB, block_size


def checksum_ok(data: bytes, checksum: str | None, algorithm: str | None) -> bool:
    """Whether `data` has the base64 SHA256 `checksum` the API returned with it."""
    if not checksum or (algorithm or "SHA256").upper() != "SHA256":
        return False
    return base64.b64encode(hashlib.sha256(data).digest()).decode() == checksum


class SnapshotReader(io.RawIOBase):
    """A read-only, seekable view of a snapshot's bytes; blocks fetched on first read.

    `failure` keeps the first block error: parsers that swallow exceptions while probing (the
    partition-table detection does) cannot hide a checksum mismatch from the caller. A block
    fetched ahead that is never read reports nothing. `prefetch` is how many listed blocks are
    fetched ahead once two consecutive ones were read (0: none); `close()` stops the pool.
    """

    def __init__(
        self,
        client: Any,
        snapshot_id: str,
        *,
        block_size: int | None = None,
        cache_blocks: int = DEFAULT_CACHE_BLOCKS,
        prefetch: int = 0,
    ) -> None:
        super().__init__()
        self.client = client
        self.snapshot_id = snapshot_id
        self.tokens, self.size, listed = list_blocks(client, snapshot_id)
        self.block_size = block_size or listed or EBS_BLOCK_SIZE
        if self.tokens and not self.size:
            self.size = (max(self.tokens) + 1) * self.block_size
        self.cache_blocks = max(cache_blocks, 1)
        self.fetched = 0
        self.failure: BlockError | None = None
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._pos = 0
        self.prefetch = max(prefetch, 0)
        self._listed = sorted(self.tokens)
        self._last_miss = -2
        self._pending: dict[int, Future[bytes]] = {}
        self._lock = threading.Lock()
        self._pool = (
            ThreadPoolExecutor(PREFETCH_WORKERS, thread_name_prefix="cwpp-ebs")
            if self.prefetch
            else None
        )

    def close(self) -> None:
        """Stops fetching ahead (blocks in flight are dropped) and closes the reader."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()
        super().close()

    def readable(self) -> bool:
        """Always: this is a reader."""
        return True

    def seekable(self) -> bool:
        """Always: blocks are addressed by index."""
        return True

    def tell(self) -> int:
        """The current offset."""
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Moves the offset (past the end is allowed; reads there return nothing)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _block(self, index: int) -> bytes:
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        token = self.tokens.get(index)
        pending = self._pending.pop(index, None)
        if token is None:
            data = bytes(self.block_size)
        elif pending is not None:
            try:
                data = pending.result()
            except BlockError as err:
                raise self._fail(err) from None
        else:
            data = self._fetch(index, token)
        self._cache[index] = data
        if len(self._cache) > self.cache_blocks:
            self._cache.popitem(last=False)
        if token is not None:
            self._read_ahead(index)
        return data

    def _read_ahead(self, index: int) -> None:
        """Fetches the next listed blocks when this one follows the previous one read."""
        at = bisect.bisect_right(self._listed, index)
        sequential = at >= 2 and self._listed[at - 2] == self._last_miss
        self._last_miss = index
        if self._pool is None or not sequential:
            return
        window = self._listed[at : at + self.prefetch]
        # Blocks fetched ahead of an earlier run that was left: at most `prefetch` are kept.
        for stale in [i for i in self._pending if i not in window]:
            self._pending.pop(stale).cancel()
        for nxt in window:
            if nxt not in self._cache and nxt not in self._pending:
                self._pending[nxt] = self._pool.submit(self._download, nxt, self.tokens[nxt])

    def _fetch(self, index: int, token: str) -> bytes:
        try:
            return self._download(index, token)
        except BlockError as err:
            raise self._fail(err) from None

    def _download(self, index: int, token: str) -> bytes:
        """One block, checked; BlockError when refused or damaged (may run in the pool)."""
        try:
            answer = self.client.get_snapshot_block(
                SnapshotId=self.snapshot_id, BlockIndex=index, BlockToken=token
            )
            data = bytes(answer["BlockData"].read())
        except (ClientError, BotoCoreError) as err:
            raise _api("GetSnapshotBlock", self.snapshot_id, err) from None
        with self._lock:
            self.fetched += 1
        if not checksum_ok(data, answer.get("Checksum"), answer.get("ChecksumAlgorithm")):
            raise BlockError(f"{self.snapshot_id}: block {index} checksum mismatch")
        if len(data) != self.block_size:
            raise BlockError(
                f"{self.snapshot_id}: block {index} is {len(data)} bytes, "
                f"expected {self.block_size}"
            )
        return data

    def _fail(self, err: BlockError) -> BlockError:
        self.failure = self.failure or err
        return err

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        """Fills `buffer` from the current offset; zeros where no block was written."""
        view = memoryview(buffer).cast("B")
        want = min(len(view), max(self.size - self._pos, 0))
        done = 0
        while done < want:
            index, start = divmod(self._pos, self.block_size)
            chunk = self._block(index)[start : start + want - done]
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
            self._pos += len(chunk)
        return done
