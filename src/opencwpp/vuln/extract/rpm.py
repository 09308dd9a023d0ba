"""RHEL-family packages from the rpm database: the sqlite format (rpmdb.sqlite, rpm >= 4.16).

Each row of its `Packages` table is an rpm header blob; the Berkeley DB format (older
`Packages` files) is not read yet.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import tempfile

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.base import RPM, Extractor, Package, register

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
        tag, kind, offset, n = struct.unpack(">iIiI", blob[8 + 16 * i : 24 + 16 * i])
        if tag not in (NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM) or offset < 0:
            continue
        if kind == _INT32 and n >= 1:
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
    packages = []
    for (blob,) in rows:
        pkg = package_of(parse_header(bytes(blob)), path)
        if pkg is not None:
            packages.append(pkg)
    return packages


EXTRACTOR = register(
    Extractor(
        "rpm-sqlite",
        lambda p: p in ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"),
        parse_sqlite,
        max_bytes=512 * 1024 * 1024,
    )
)
