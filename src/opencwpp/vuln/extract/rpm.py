"""RHEL-family packages from the rpm database, in each of its on-disk formats.

- sqlite (`rpmdb.sqlite`, rpm >= 4.16: RHEL 9, Amazon Linux 2023, Fedora): a `Packages` table;
- Berkeley DB (`Packages`, rpm < 4.16: RHEL/CentOS 7 and 8, Amazon Linux 2), read by `rpm_bdb`;
- NDB (`Packages.db`, rpm's own format, SUSE 15 and later), read by `parse_ndb` below.

Every format stores one rpm header blob per installed package, parsed here. rpm itself reads
only the database its configured backend names, so when a directory holds more than one (an
old `Packages` left behind by `rpmdb --rebuilddb` after a migration to sqlite), only one counts:
see `one_database`.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import tempfile
import zlib

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.base import RPM, Extractor, Package, register
from opencwpp.vuln.extract.rpm_bdb import HashFile

NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM = 1000, 1001, 1002, 1003, 1022, 1044
_INT32, _STRING, _STRING_ARRAY, _I18N = 4, 6, 8, 9


def parse_header(blob: bytes) -> dict[int, str | int]:
    """The string and int32 tags of an rpm header blob (index count, data size, entries, data)."""
    if len(blob) < 8:
        raise BadInputError("rpm header", "truncated")
    count, size = struct.unpack(">II", blob[:8])
    start = 8 + 16 * count
    if count > 100_000 or start + size > len(blob):
        raise BadInputError("rpm header", "index larger than the blob")
    data = blob[start : start + size]
    tags: dict[int, str | int] = {}
    for i in range(count):
        tag, kind, offset, n = struct.unpack_from(">iIiI", blob, 8 + 16 * i)
        if tag not in (NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM):
            continue
        if not 0 <= offset < size:
            raise BadInputError("rpm header", f"tag {tag} points outside the data")
        if kind == _INT32 and n >= 1:
            if offset + 4 > size:
                raise BadInputError("rpm header", f"tag {tag} runs past the data")
            tags[tag] = struct.unpack(">i", data[offset : offset + 4])[0]
        elif kind in (_STRING, _STRING_ARRAY, _I18N):
            end = data.find(b"\0", offset)
            tags[tag] = data[offset : end if end >= 0 else None].decode("utf-8", "replace")
    return tags


def package_of(tags: dict[int, str | int], path: str) -> Package | None:
    """The package of a parsed header (None for gpg-pubkey pseudo packages)."""
    name = str(tags.get(NAME, ""))
    if not name or name == "gpg-pubkey":
        return None
    evr = f"{tags.get(VERSION, '')}-{tags.get(RELEASE, '')}"
    if EPOCH in tags and tags[EPOCH] != 0:
        evr = f"{tags[EPOCH]}:{evr}"
    source = str(tags.get(SOURCERPM, ""))
    # foo-1.2-3.el9.src.rpm -> foo
    source_name = source.rsplit("-", 2)[0] if source.count("-") >= 2 else name
    return Package(RPM, name, evr, path, source_name, evr)


def _packages(blobs: list[tuple[str, bytes]], path: str) -> list[Package]:
    """Packages of (record label, header blob) pairs; a bad blob names the file and record."""
    packages = []
    for label, blob in blobs:
        try:
            pkg = package_of(parse_header(blob), path)
        except BadInputError as err:
            raise BadInputError(path, f"{label}: {err.problem}") from None
        if pkg is not None:
            packages.append(pkg)
    return packages


def parse_bdb(data: bytes, path: str) -> list[Package]:
    """Packages of a Berkeley DB `Packages` file (record 0 is rpm's instance counter)."""
    db = HashFile(data, path)
    # rpm writes keys in the host's byte order, which is the file's.
    blobs = [
        (f"record {int.from_bytes(key, 'little' if db.order == '<' else 'big')}", value)
        for key, value in db.records()
        if key != b"\0\0\0\0"
    ]
    return _packages(blobs, path)


# rpm's NDB layout (lib/backend/ndb/rpmpkg.c), little-endian throughout: a 32-byte header, then
# slot pages of 16-byte slots (magic, package index, block offset, block count), then blobs in
# 16-byte blocks: head (magic, package index, generation, length), header blob, padding, tail
# (adler32 of everything before it, length, magic).
NDB_MAGIC, NDB_SLOT, NDB_HEAD, NDB_TAIL = b"RpmP", b"Slot", b"BlbS", b"BlbE"
NDB_PAGE, NDB_BLOCK, NDB_HEADER = 4096, 16, 32


def ndb_blobs(data: bytes, path: str) -> list[tuple[str, bytes]]:
    """(label, header blob) of each package of an NDB `Packages.db`; BadInputError if corrupt."""

    def bad(problem: str) -> BadInputError:
        return BadInputError(path, problem)

    if len(data) < NDB_HEADER or data[:4] != NDB_MAGIC:
        raise bad("not an rpm NDB database (bad magic)")
    version, _generation, npages = struct.unpack_from("<3I", data, 4)
    if version != 0:
        raise bad(f"unsupported NDB version {version}")
    if len(data) % NDB_BLOCK or npages == 0 or npages * NDB_PAGE > len(data):
        raise bad(f"truncated: {len(data)} bytes for {npages} slot pages")
    blocks, first_block = len(data) // NDB_BLOCK, npages * NDB_PAGE // NDB_BLOCK
    slots = []
    for offset in range(NDB_HEADER, npages * NDB_PAGE, NDB_BLOCK):
        magic, index, start, count = struct.unpack_from("<4sIII", data, offset)
        if magic != NDB_SLOT:
            raise bad(f"slot at byte {offset}: bad magic")
        if start == 0:
            continue  # a free slot
        if index == 0 or count == 0 or start < first_block or start + count > blocks:
            raise bad(f"package {index}: blocks {start}+{count} outside the file")
        slots.append((start, count, index))
    slots.sort()
    end = first_block
    blobs = []
    for start, count, index in slots:
        if start < end:
            raise bad(f"package {index}: overlaps the previous package")
        end = start + count
        at, stop = start * NDB_BLOCK, end * NDB_BLOCK
        magic, owner, _gen, length = struct.unpack_from("<4sIII", data, at)
        if magic != NDB_HEAD or owner != index:
            raise bad(f"package {index}: bad blob head")
        if count != -(-(16 + length + 12) // NDB_BLOCK):
            raise bad(f"package {index}: blob length {length} does not fill {count} blocks")
        adler, tail_length, tail = struct.unpack_from("<II4s", data, stop - 12)
        if tail != NDB_TAIL or tail_length != length:
            raise bad(f"package {index}: bad blob tail")
        if zlib.adler32(data[at : stop - 12]) != adler:
            raise bad(f"package {index}: checksum mismatch")
        blobs.append((f"package {index}", data[at + 16 : at + 16 + length]))
    return blobs


def parse_ndb(data: bytes, path: str) -> list[Package]:
    """Packages of an NDB `Packages.db` file."""
    return _packages(ndb_blobs(data, path), path)


def parse_sqlite(data: bytes, path: str) -> list[Package]:
    """Packages of an rpmdb.sqlite file (read from a private temporary copy, read-only)."""
    fd, tmp = tempfile.mkstemp(suffix=".sqlite", prefix="cwpp-rpmdb-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        conn = sqlite3.connect(f"file:{tmp}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT blob FROM Packages").fetchall()
        finally:
            conn.close()
    finally:
        os.unlink(tmp)
    return _packages([(f"row {i}", bytes(blob)) for i, (blob,) in enumerate(rows, 1)], path)


EXTRACTOR = register(
    Extractor(
        "rpm-sqlite",
        lambda p: p in ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"),
        parse_sqlite,
        max_bytes=512 * 1024 * 1024,
    )
)

BDB_EXTRACTOR = register(
    Extractor(
        "rpm-bdb",
        lambda p: p in ("var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages"),
        parse_bdb,
        max_bytes=512 * 1024 * 1024,
    )
)

NDB_EXTRACTOR = register(
    Extractor(
        "rpm-ndb",
        lambda p: p in ("var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db"),
        parse_ndb,
        max_bytes=512 * 1024 * 1024,
    )
)

# The formats in the order they win when one directory holds several: rpm >= 4.16 defaults to
# sqlite and converts from the others, SUSE's NDB replaced its Berkeley DB.
_PREFERENCE = ("rpmdb.sqlite", "Packages.db", "Packages")


def one_database(packages: list[Package]) -> list[Package]:
    """The packages without those of a stale rpm database beside the current one.

    Per directory, the packages of the first format of `_PREFERENCE` that yielded any are kept:
    a non-empty sqlite database wins over a leftover Berkeley DB `Packages`; an empty or
    unreadable one (its problem is reported by the scan) leaves the older database in use,
    so a failed migration never hides packages. Other packages pass through unchanged.
    """
    found: dict[str, set[str]] = {}
    for p in packages:
        folder, _, name = p.path.rpartition("/")
        if p.ecosystem == RPM and name in _PREFERENCE:
            found.setdefault(folder, set()).add(name)
    keep = {folder: next(n for n in _PREFERENCE if n in names) for folder, names in found.items()}

    def kept(p: Package) -> bool:
        folder, _, name = p.path.rpartition("/")
        return p.ecosystem != RPM or name not in _PREFERENCE or name == keep[folder]

    return [p for p in packages if kept(p)]
