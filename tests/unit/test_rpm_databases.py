"""One rpm database per directory: a stale Berkeley DB `Packages` beside `rpmdb.sqlite`.

rpm >= 4.16 converts the old database to sqlite; migrations (leapp, `rpmdb --rebuilddb`, images
built across the switch) can leave the old `Packages` behind. rpm then reads only the sqlite
one, and so does the scan: every package is reported once, with the sqlite version.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opencwpp.vuln.extract.base import RPM, Package
from opencwpp.vuln.extract.rpm import one_database
from opencwpp.vuln.inventory import inventory
from tests.data.vuln import builders as b
from tests.data.vuln.rpm import realdb as r

SQLITE, BDB = "var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages"
# The sqlite database after an update: bash is newer than in the stale Packages file.
CURRENT = [("bash", "4.2.46", "36.amzn2", None), ("openssl", "1.0.2k", "25.amzn2", 1)]


@pytest.fixture(scope="module")
def stale(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real Berkeley DB `Packages` file of the Amazon Linux 2 fixture packages."""
    r.require_tools()
    work = tmp_path_factory.mktemp("amzn2")
    blobs = r.header_blobs(work, r.AMZN2)
    return r.packages_file(work / "Packages", blobs).read_bytes()


def _root(
    tmp_path: Path, stale: bytes, sqlite: list[tuple[str, str, str, int | None]] | None
) -> Path:
    root = tmp_path / "root"
    b.write(root, "etc/os-release", r.AMZN2_OS)
    b.write(root, BDB, stale)
    if sqlite is not None:
        b.rpmdb(root / SQLITE, sqlite)
    return root


def test_sqlite_wins_over_a_stale_packages_file(tmp_path: Path, stale: bytes) -> None:
    inv = inventory(_root(tmp_path, stale, CURRENT))
    got = sorted((p.name, p.version, p.path) for p in inv.packages)
    assert got == [
        ("bash", "4.2.46-36.amzn2", SQLITE),
        ("openssl", "1:1.0.2k-25.amzn2", SQLITE),
    ]
    assert inv.problems == []


def test_without_sqlite_the_packages_file_is_read(tmp_path: Path, stale: bytes) -> None:
    inv = inventory(_root(tmp_path, stale, None))
    assert {p.name for p in inv.packages} == set(r.expected(r.AMZN2))
    assert {p.path for p in inv.packages} == {BDB}


def test_empty_sqlite_leaves_the_packages_file_in_use(tmp_path: Path, stale: bytes) -> None:
    # A migration that created the sqlite file but never filled it: no package may vanish.
    inv = inventory(_root(tmp_path, stale, []))
    assert {p.name for p in inv.packages} == set(r.expected(r.AMZN2))
    assert inv.problems == []


def test_corrupt_sqlite_is_reported_and_the_packages_file_used(
    tmp_path: Path, stale: bytes
) -> None:
    root = _root(tmp_path, stale, None)
    b.write(root, SQLITE, b"SQLite format 3\0" + b"\xff" * 4000)
    inv = inventory(root)
    assert {p.name for p in inv.packages} == set(r.expected(r.AMZN2))
    assert [p.split(": ", 1)[0] for p in inv.problems] == [f"{inv.target}:{SQLITE}"]


def test_databases_in_different_directories_are_both_kept() -> None:
    # Near miss: the rule is per directory; other ecosystems pass through untouched.
    pkgs = [
        Package(RPM, "bash", "1-1", "usr/lib/sysimage/rpm/rpmdb.sqlite"),
        Package(RPM, "bash", "0-1", BDB),
        Package(RPM, "zsh", "1-1", "usr/lib/sysimage/rpm/Packages.db"),
        Package("PyPI", "requests", "2.0", "usr/lib/python3/site-packages/x/METADATA"),
    ]
    assert one_database(pkgs) == [pkgs[0], pkgs[1], pkgs[3]]
