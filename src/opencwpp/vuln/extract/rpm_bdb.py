"""Berkeley DB hash files read in pure Python: the rpm `Packages` database before rpm 4.16.

RHEL/CentOS 7 and 8 and Amazon Linux 2 keep their rpm database in `/var/lib/rpm/Packages`, a
Berkeley DB (libdb 4.x/5.x) hash database: key = the package's instance number, value = its rpm
header blob. This reader is read-only and distrusts every number in the file: page numbers,
item offsets and lengths are bounds-checked, each page is used at most once (no cycles, no
amplification), and anything that does not fit is a `BadInputError` naming the file.

Layout (Berkeley DB's `dbmeta.h`, `db_page.h`, `hash.h`): page 0 is the hash metadata page,
buckets map to pages through the `spares` table, a bucket's pages are chained by `next_pgno`,
and each holds key/data item pairs; an item larger than a quarter page lives on a chain of
overflow pages. Both byte orders are read (the metadata magic tells which).
"""

from __future__ import annotations

import struct
from typing import NoReturn

from opencwpp.vuln.errors import BadInputError

HASH_MAGIC, BTREE_MAGIC = 0x061561, 0x053162
HASH_VERSIONS = (8, 9, 10)  # libdb 4.x to 6.x share this metadata layout
P_INVALID, P_HASH_UNSORTED, P_OVERFLOW, P_HASHMETA, P_HASH = 0, 2, 7, 8, 13
H_KEYDATA, H_DUPLICATE, H_OFFPAGE, H_OFFDUP = 1, 2, 3, 4
PAGE_HEADER = 26  # lsn, pgno, prev, next, entries, hf_offset, level, type
CHKSUM_HEADER = 32  # + 2 bytes alignment and a 4-byte checksum when the file is checksummed
DBMETA_CHKSUM = 0x01
OFFPAGE_ITEM = 12  # type, 3 unused, pgno, total length
NCACHED = 32


class HashFile:
    """One Berkeley DB hash file in memory (the caller bounds its size)."""

    def __init__(self, data: bytes, source: str) -> None:
        """Checks the metadata page; raises BadInputError when it is not a readable hash file."""
        self.data = memoryview(data)
        self.source = source
        if len(data) < 512:
            self._bad(f"{len(data)} bytes, too small for a Berkeley DB file")
        magic_le, magic_be = (
            struct.unpack_from("<I", data, 12)[0],
            struct.unpack_from(">I", data, 12)[0],
        )
        if HASH_MAGIC in (magic_le, magic_be):
            self.order = "<" if magic_le == HASH_MAGIC else ">"
        elif BTREE_MAGIC in (magic_le, magic_be):
            self._bad("a Berkeley DB btree database, not the hash database rpm uses")
        else:
            self._bad("not a Berkeley DB hash database (bad magic)")
        version, pagesize = self._u32s(data, 16, 2)
        encrypt, kind, metaflags = data[24], data[25], data[26]
        if version not in HASH_VERSIONS:
            self._bad(f"unsupported Berkeley DB hash version {version}")
        if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
            self._bad(f"invalid page size {pagesize}")
        if kind != P_HASHMETA:
            self._bad(f"page 0 is not a hash metadata page (type {kind})")
        if encrypt:
            self._bad("encrypted Berkeley DB files are not supported")
        if len(data) % pagesize:
            self._bad(
                f"truncated: {len(data)} bytes is not a whole number of {pagesize}-byte pages"
            )
        self.pagesize = pagesize
        self.pages = len(data) // pagesize
        self.overhead = CHKSUM_HEADER if metaflags & DBMETA_CHKSUM else PAGE_HEADER
        (self.last_pgno,) = self._u32s(data, 32, 1)
        (self.max_bucket,) = self._u32s(data, 72, 1)
        self.spares = self._u32s(data, 96, NCACHED)
        if self.last_pgno >= self.pages:
            self._bad(
                f"truncated: the metadata names page {self.last_pgno}, the file has {self.pages}"
            )
        if self.max_bucket >= min(self.pages, 1 << 31):
            self._bad(f"{self.max_bucket + 1} buckets in a file of {self.pages} pages")
        self._used: set[int] = set()

    def _bad(self, problem: str) -> NoReturn:
        raise BadInputError(self.source, problem)

    def _u32s(self, buf: bytes | memoryview, offset: int, count: int) -> tuple[int, ...]:
        return struct.unpack_from(f"{self.order}{count}I", buf, offset)

    def _page(self, pgno: int, kinds: tuple[int, ...], what: str) -> memoryview:
        """Page `pgno`, once: a page reached twice means a cycle or a shared chain."""
        if pgno == 0 or pgno >= self.pages:
            self._bad(f"{what}: page {pgno} is outside the file ({self.pages} pages)")
        if pgno in self._used:
            self._bad(f"{what}: page {pgno} is reached twice")
        self._used.add(pgno)
        page = self.data[pgno * self.pagesize : (pgno + 1) * self.pagesize]
        if page[25] not in kinds:
            self._bad(f"{what}: page {pgno} has type {page[25]}, expected {kinds}")
        return page

    def records(self) -> list[tuple[bytes, bytes]]:
        """Every (key, value) pair, bucket by bucket."""
        out: list[tuple[bytes, bytes]] = []
        for bucket in range(self.max_bucket + 1):
            # libdb's BS_TO_PAGE: bucket + spares[ceil(log2(bucket + 1))].
            pgno = bucket + self.spares[bucket.bit_length()]
            what = f"bucket {bucket}"
            first = True
            while pgno:
                # A bucket page that was allocated but never written is all zeros: empty.
                if first and pgno < self.pages and self._is_blank(pgno):
                    self._used.add(pgno)
                    break
                first = False
                page = self._page(pgno, (P_HASH, P_HASH_UNSORTED), what)
                out.extend(self._pairs(page, pgno))
                (pgno,) = self._u32s(page, 16, 1)
        return out

    def _is_blank(self, pgno: int) -> bool:
        page = self.data[pgno * self.pagesize : (pgno + 1) * self.pagesize]
        return page[25] == P_INVALID and not any(page[8:24])

    def _pairs(self, page: memoryview, pgno: int) -> list[tuple[bytes, bytes]]:
        entries = struct.unpack_from(f"{self.order}H", page, 20)[0]
        index_end = self.overhead + 2 * entries
        if entries % 2 or index_end > self.pagesize:
            self._bad(f"page {pgno}: invalid item count {entries}")
        offsets = struct.unpack_from(f"{self.order}{entries}H", page, self.overhead)
        items: list[bytes] = []
        end = self.pagesize
        for i, start in enumerate(offsets):
            # Items are packed downwards from the page end: each ends where the previous begins.
            if not index_end <= start < end:
                self._bad(f"page {pgno}: item {i} at offset {start} is out of place")
            items.append(self._item(page[start:end], pgno, i))
            end = start
        return list(zip(items[0::2], items[1::2], strict=True))

    def _item(self, item: memoryview, pgno: int, i: int) -> bytes:
        kind = item[0]
        if kind == H_KEYDATA:
            return bytes(item[1:])
        if kind == H_OFFPAGE:
            if len(item) < OFFPAGE_ITEM:
                self._bad(f"page {pgno}: item {i} is a truncated overflow reference")
            first, total = self._u32s(item, 4, 2)
            return self._overflow(first, total, f"page {pgno} item {i}")
        if kind in (H_DUPLICATE, H_OFFDUP):
            self._bad(f"page {pgno}: duplicate items, which rpm never writes")
        self._bad(f"page {pgno}: item {i} has unknown type {kind}")

    def _overflow(self, pgno: int, total: int, what: str) -> bytes:
        """An item stored on a chain of overflow pages (each page holds hf_offset bytes)."""
        if total > len(self.data):
            self._bad(f"{what}: {total} bytes claimed, larger than the file")
        parts: list[memoryview] = []
        got = 0
        while got < total:
            if not pgno:
                self._bad(f"{what}: overflow chain ends after {got} of {total} bytes")
            page = self._page(pgno, (P_OVERFLOW,), what)
            length = struct.unpack_from(f"{self.order}H", page, 22)[0]
            if self.overhead + length > self.pagesize or length == 0:
                self._bad(f"{what}: overflow page {pgno} claims {length} bytes")
            length = min(length, total - got)
            parts.append(page[self.overhead : self.overhead + length])
            got += length
            (pgno,) = self._u32s(page, 16, 1)
        return b"".join(parts)


def hash_records(data: bytes, source: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) pair of a Berkeley DB hash file; BadInputError if it is not one."""
    return HashFile(data, source).records()
