"""Real rpm Berkeley DB `Packages` files for the rpm tests, made by the real tools.

rpmbuild builds small binary rpms from spec files, rpm installs them (`--justdb`) into a
scratch rpmdb to get the exact header blobs rpm stores, and Berkeley DB's own `db5.3_load`
writes them into a hash database the way rpm < 4.16 did (key: the package's instance number
in host byte order, record 0: the highest instance number). Debian's rpm can still read
such a file (its `bdb_ro` backend), which the tests use as the reference reader.
scripts/install-test-tools.sh installs the tools (Debian packages `rpm` and `db5.3-util`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

TOOLS = ("rpmbuild", "rpm", "db5.3_load")

AMZN2_OS = (
    'NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\n'
    'VERSION_ID="2"\nPRETTY_NAME="Amazon Linux 2"\n'
)
CENTOS7_OS = (
    'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\n'
    'VERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n'
)


@dataclass(frozen=True)
class Spec:
    """A source package: its binary packages are `name` and `name-SUB` for each sub."""

    name: str
    version: str
    release: str
    epoch: int | None = None
    subs: tuple[str, ...] = ()
    files: int = 8  # files listed per binary package: bigger headers, overflow pages

    def text(self) -> str:
        """The spec file (no build, no payload beyond empty files)."""
        lines = [
            f"Name: {self.name}",
            f"Version: {self.version}",
            f"Release: {self.release}",
            "Summary: test package",
            "License: MIT",
        ]
        if self.epoch is not None:
            lines.append(f"Epoch: {self.epoch}")
        lines += ["%description", "test", ""]
        for sub in self.subs:
            lines += [f"%package {sub}", f"Summary: {sub}", f"%description {sub}", sub, ""]
        lines += ["%install", "mkdir -p %{buildroot}/usr/share/" + self.name]
        for pkg in ("", *self.subs):
            for i in range(self.files):
                lines.append(f"echo x > %{{buildroot}}/usr/share/{self.name}/{pkg or 'main'}-{i}")
        lines.append("")
        for pkg in ("", *self.subs):
            lines.append(f"%files {pkg}".rstrip())
            lines.append(f"/usr/share/{self.name}/{pkg or 'main'}-*")
        return "\n".join(lines) + "\n"


AMZN2 = (
    Spec("openssl", "1.0.2k", "24.amzn2.0.7", epoch=1, subs=("libs",)),
    Spec("bash", "4.2.46", "34.amzn2"),
    Spec("glibc", "2.26", "64.amzn2.0.1", subs=("common", "minimal-langpack"), files=40),
    Spec("system-release", "2", "15.amzn2"),
    Spec("python", "2.7.18", "1.amzn2.0.8", subs=("libs",)),
    Spec("curl", "8.3.0", "1.amzn2.0.4", subs=("libcurl",)),
)
CENTOS7 = (
    Spec("openssl", "1.0.2k", "26.el7_9", epoch=1, subs=("libs",)),
    Spec("bash", "4.2.46", "35.el7_9"),
    Spec("glibc", "2.17", "326.el7_9", subs=("common",), files=40),
    Spec("centos-release", "7", "9.2009.1.el7.centos"),
    Spec("tzdata", "2024a", "1.el7", files=2),
    Spec("shadow-utils", "4.6", "5.el7", epoch=2),
)


def expected(specs: tuple[Spec, ...]) -> dict[str, tuple[str, str]]:
    """Binary package name -> (epoch:version-release, source package name)."""
    out = {}
    for spec in specs:
        evr = f"{spec.version}-{spec.release}"
        if spec.epoch:
            evr = f"{spec.epoch}:{evr}"
        for sub in ("", *spec.subs):
            out[f"{spec.name}-{sub}" if sub else spec.name] = (evr, spec.name)
    return out


def require_tools() -> None:
    """Skips without rpmbuild/rpm/db5.3_load; fails under CI, where the install script ran."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        message = f"{', '.join(missing)} not installed (scripts/install-test-tools.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _run(*args: str) -> str:
    done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=120)
    if "error:" in done.stderr:  # rpm -qa exits 0 on a database it cannot read
        raise RuntimeError(f"{args[0]}: {done.stderr.strip()}")
    return done.stdout


def header_blobs(work: Path, specs: tuple[Spec, ...]) -> list[tuple[int, bytes]]:
    """(instance number, header blob) of each binary package, as rpm itself stores them."""
    top, dbpath = work / "rpmbuild", work / "sqlitedb"
    work.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        path = work / f"{spec.name}.spec"
        path.write_text(spec.text())
        _run(
            "rpmbuild", "-bb", "--nodeps", f"--define=_topdir {top}",
            "--define=debug_package %{nil}", "--define=_build_id_links none", str(path),
        )  # fmt: skip
    rpms = sorted(str(p) for p in top.glob("RPMS/*/*.rpm"))
    dbpath.mkdir()
    _run("rpm", "--dbpath", str(dbpath), "--initdb")
    _run(
        "rpm", "--dbpath", str(dbpath), "-i", "--justdb", "--nodeps", "--noscripts",
        "--ignorearch", "--ignoreos", *rpms,
    )  # fmt: skip
    conn = sqlite3.connect(dbpath / "rpmdb.sqlite")
    try:
        rows = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
    finally:
        conn.close()
    return [(int(h), bytes(blob)) for h, blob in rows]


def db_load(
    path: Path,
    records: list[tuple[bytes, bytes]],
    pagesize: int = 4096,
    lorder: int = 1234,
    chksum: bool = False,
) -> Path:
    """A Berkeley DB hash file of `records`, written by db5.3_load (its dump format, hex)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dump = ["VERSION=3", "format=bytevalue", "type=hash", "HEADER=END"]
    for key, value in records:
        dump += [" " + key.hex(), " " + value.hex()]
    dump.append("DATA=END")
    options = ["-c", f"db_pagesize={pagesize}", "-c", f"db_lorder={lorder}"]
    if chksum:
        options += ["-c", "chksum=1"]
    path.unlink(missing_ok=True)
    subprocess.run(
        ["db5.3_load", *options, str(path)],
        input="\n".join(dump) + "\n",
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return path


def records_of(blobs: list[tuple[int, bytes]], lorder: int = 1234) -> list[tuple[bytes, bytes]]:
    """The records rpm keeps for `blobs`: instance-number keys in the file's byte order,
    plus record 0 holding the next instance number."""
    fmt = "<I" if lorder == 1234 else ">I"
    top = max((h for h, _ in blobs), default=0)
    records = [(struct.pack(fmt, 0), struct.pack(fmt, top + 1))]
    return records + [(struct.pack(fmt, h), blob) for h, blob in blobs]


def packages_file(
    path: Path,
    blobs: list[tuple[int, bytes]],
    pagesize: int = 4096,
    lorder: int = 1234,
    chksum: bool = False,
) -> Path:
    """An rpm `Packages` file holding `blobs` (see `records_of`)."""
    return db_load(path, records_of(blobs, lorder), pagesize, lorder, chksum)


def rpm_reads(dbpath: Path) -> dict[str, str]:
    """What rpm itself (its read-only Berkeley DB backend) lists: name -> [epoch:]version-release.

    rpm's backend cannot read checksummed files (libdb itself can): use it on plain ones.
    """
    out = _run(
        "rpm", "--dbpath", str(dbpath), "--define", "_db_backend bdb_ro", "-qa",
        "--qf", "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n",
    )  # fmt: skip
    return dict(line.split(" ", 1) for line in out.splitlines() if line)


def ndb_file(path: Path, blobs: list[tuple[int, bytes]], slot_pages: int = 1) -> Path:
    """An rpm NDB `Packages.db` (SUSE) holding `blobs`. No Debian tool writes this format, so it
    is laid out here as rpm's lib/backend/ndb/rpmpkg.c writes it: header, slot pages, blobs
    with head, padding and an adler32 tail, all little-endian."""
    import zlib

    page, block = 4096, 16
    slot_pages = max(slot_pages, -(-(len(blobs) + 2) // (page // 16)))  # 2 slots: the header
    out = bytearray(slot_pages * page)
    out[:20] = struct.pack("<4sIIII", b"RpmP", 0, 7, slot_pages, len(blobs) + 1)
    for off in range(32, slot_pages * page, 16):
        out[off : off + 4] = b"Slot"
    for n, (index, blob) in enumerate(blobs):
        count = -(-(16 + len(blob) + 12) // block)
        start = len(out) // block
        body = struct.pack("<4sIII", b"BlbS", index, 7, len(blob)) + blob
        body += bytes(count * block - 12 - len(body))
        body += struct.pack("<II4s", zlib.adler32(body), len(blob), b"BlbE")
        out += body
        slot = 32 + 16 * n
        out[slot : slot + 16] = struct.pack("<4sIII", b"Slot", index, start, count)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path
