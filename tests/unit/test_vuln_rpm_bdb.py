"""rpm's Berkeley DB `Packages` database (RHEL/CentOS 7-8, Amazon Linux 2), read in pure Python.

The files are real: rpmbuild builds the packages, rpm installs them to get the header blobs it
stores, Berkeley DB's db5.3_load writes the hash database, and rpm's own read-only Berkeley DB
backend is the reference every layout is checked against (tests/data/vuln/rpm/realdb.py).
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.base import REGISTRY
from opencwpp.vuln.extract.rpm import parse_bdb, parse_header, parse_ndb
from opencwpp.vuln.extract.rpm_bdb import HashFile, hash_records
from opencwpp.vuln.inventory import inventory
from tests.data.vuln import builders as b
from tests.data.vuln.rpm import realdb as r

PACKAGES = "var/lib/rpm/Packages"
Blobs = list[tuple[int, bytes]]


@pytest.fixture(scope="module")
def amzn2(tmp_path_factory: pytest.TempPathFactory) -> Blobs:
    r.require_tools()
    blobs = r.header_blobs(tmp_path_factory.mktemp("amzn2"), r.AMZN2)
    # rpm --import leaves gpg-pubkey pseudo packages in the database: never a package.
    return [*blobs, (len(blobs) + 1, b.rpm_header("gpg-pubkey", "c87f5b1a", "593863f8"))]


@pytest.fixture(scope="module")
def centos7(tmp_path_factory: pytest.TempPathFactory) -> Blobs:
    r.require_tools()
    return r.header_blobs(tmp_path_factory.mktemp("centos7"), r.CENTOS7)


def _found(path: Path) -> dict[str, tuple[str, str]]:
    return {p.name: (p.version, p.source_name) for p in parse_bdb(path.read_bytes(), PACKAGES)}


def _root(tmp_path: Path, os_release: str, blobs: Blobs) -> Path:
    root = tmp_path / "root"
    b.write(root, "etc/os-release", os_release)
    r.packages_file(root / PACKAGES, blobs)
    return root


def test_amazon_linux_2(tmp_path: Path, amzn2: Blobs) -> None:
    inv = inventory(_root(tmp_path, r.AMZN2_OS, amzn2))
    assert inv.os is not None and inv.os.ecosystem == "Amazon Linux:2"
    assert inv.problems == []
    got = {p.name: (p.version, p.source_name) for p in inv.packages}
    assert got == r.expected(r.AMZN2)
    assert got["openssl-libs"] == ("1:1.0.2k-24.amzn2.0.7", "openssl")
    assert {p.ecosystem for p in inv.packages} == {"Amazon Linux:2"}
    assert {p.path for p in inv.packages} == {PACKAGES}
    # What rpm itself reads from the same file (gpg-pubkey included there, not a package here).
    rpm_says = r.rpm_reads(tmp_path / "root/var/lib/rpm")
    assert rpm_says.pop("gpg-pubkey") == "c87f5b1a-593863f8"
    assert rpm_says == {name: evr for name, (evr, _src) in got.items()}


def test_centos_7(tmp_path: Path, centos7: Blobs) -> None:
    inv = inventory(_root(tmp_path, r.CENTOS7_OS, centos7))
    assert inv.os is not None
    assert (inv.os.id, inv.os.version_id, inv.os.pretty_name) == (
        "centos",
        "7",
        "CentOS Linux 7 (Core)",
    )
    got = {p.name: (p.version, p.source_name) for p in inv.packages}
    assert got == r.expected(r.CENTOS7)
    assert got["shadow-utils"] == ("2:4.6-5.el7", "shadow-utils")
    assert got["glibc-common"] == ("2.17-326.el7_9", "glibc")
    # OSV has no CentOS ecosystem: the packages are rpm ones without a release (osrelease.py).
    assert {p.ecosystem for p in inv.packages} == {"Red Hat"}
    assert inv.problems == []


@pytest.mark.parametrize(
    ("pagesize", "lorder", "chksum"),
    [
        (512, 1234, False),  # every header on a long overflow chain
        (1024, 4321, False),  # big-endian (s390x, ppc64 hosts)
        (4096, 1234, True),  # checksummed pages: items start 6 bytes later
        (8192, 4321, True),
        (16384, 1234, False),  # small headers inline on the hash page, big ones overflow
        (65536, 1234, False),  # everything inline
    ],
)
def test_layouts_match_rpm(
    tmp_path: Path, centos7: Blobs, pagesize: int, lorder: int, chksum: bool
) -> None:
    # Enough records that the table splits its buckets and chains hash pages.
    many = [(i + 1, centos7[i % len(centos7)][1]) for i in range(400)]
    path = r.packages_file(tmp_path / "Packages", many, pagesize, lorder, chksum)
    db = HashFile(path.read_bytes(), "x")
    assert (db.pagesize, db.order) == (pagesize, "<" if lorder == 1234 else ">")
    assert sorted(db.records()) == sorted(r.records_of(many, lorder))  # byte for byte
    packages = parse_bdb(path.read_bytes(), PACKAGES)
    assert len(packages) == 400
    evrs = {name: evr for name, (evr, _src) in r.expected(r.CENTOS7).items()}
    assert {p.name: p.version for p in packages} == evrs
    if not chksum:
        assert r.rpm_reads(tmp_path) == evrs


def test_grown_table_and_record_zero(tmp_path: Path, centos7: Blobs) -> None:
    many = [(i + 1, centos7[i % len(centos7)][1]) for i in range(1500)]
    path = r.packages_file(tmp_path / "Packages", many, 1024)
    records = hash_records(path.read_bytes(), "x")
    db = HashFile(path.read_bytes(), "x")
    assert db.max_bucket > 8  # several doublings of the table: the spares mapping is exercised
    keys = sorted(struct.unpack("<I", k)[0] for k, _v in records)
    assert keys == list(range(1501))  # record 0 is rpm's instance counter, skipped as a package
    assert len(parse_bdb(path.read_bytes(), PACKAGES)) == 1500


def test_image_tarball_layer(tmp_path: Path, amzn2: Blobs) -> None:
    db = r.packages_file(tmp_path / "Packages", amzn2).read_bytes()
    base = b.tar_bytes({"etc/os-release": r.AMZN2_OS.encode(), PACKAGES: db})
    image = b.docker_save(tmp_path / "img.tar", [base])
    inv = inventory(image)
    assert inv.os is not None and inv.os.ecosystem == "Amazon Linux:2"
    assert {p.name for p in inv.packages} == set(r.expected(r.AMZN2))
    assert {p.layer for p in inv.packages} == {"layer0/layer.tar"}


# Corrupt files: a clear error naming the file, and the rest of the scan goes on.


def _pages(data: bytes, pagesize: int, kind: int) -> list[int]:
    return [n for n in range(1, len(data) // pagesize) if data[n * pagesize + 25] == kind]


def _patch(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]


@pytest.fixture
def good(tmp_path: Path, amzn2: Blobs) -> bytes:
    return r.packages_file(tmp_path / "Packages", amzn2, 4096).read_bytes()


def _corrupt(good: bytes) -> dict[str, tuple[bytes, str]]:
    ps = 4096
    hash_pg = _pages(good, ps, 13)[0] * ps
    ovf_pg = _pages(good, ps, 7)
    # The first page of an item that spans several overflow pages.
    chained = next(n for n in ovf_pg if struct.unpack_from("<I", good, n * ps + 16)[0])
    first_item = struct.unpack_from("<H", good, hash_pg + 26)[0]
    return {
        "empty": (b"", "too small"),
        "zeros": (bytes(8192), "bad magic"),
        "text": (b"not a database\n" * 100, "bad magic"),
        "btree": (_patch(good, 12, struct.pack("<I", 0x053162)), "btree"),
        "version": (_patch(good, 16, struct.pack("<I", 3)), "version 3"),
        "pagesize": (_patch(good, 20, struct.pack("<I", 3000)), "page size 3000"),
        "encrypted": (_patch(good, 24, b"\x01"), "encrypted"),
        "mid-page": (good[: len(good) - 100], "not a whole number"),
        "last-page": (good[: len(good) - ps], "truncated"),
        "buckets": (_patch(good, 72, struct.pack("<I", 10**6)), "buckets in a file"),
        "page-type": (_patch(good, hash_pg + 25, b"\x05"), "has type 5"),
        "odd-items": (_patch(good, hash_pg + 20, struct.pack("<H", 3)), "invalid item count"),
        "many-items": (_patch(good, hash_pg + 20, struct.pack("<H", 4000)), "invalid item count"),
        "item-offset": (_patch(good, hash_pg + 26, struct.pack("<H", 5)), "out of place"),
        "item-type": (_patch(good, hash_pg + first_item, b"\x09"), "unknown type 9"),
        "duplicates": (_patch(good, hash_pg + first_item, b"\x02"), "duplicate"),
        "chain-out": (_patch(good, hash_pg + 16, struct.pack("<I", 999)), "outside the file"),
        "chain-loop": (
            _patch(good, hash_pg + 16, struct.pack("<I", hash_pg // ps)),
            "reached twice",
        ),
        "overflow-loop": (
            _patch(good, chained * ps + 16, struct.pack("<I", chained)),
            "reached twice",
        ),
        "overflow-short": (
            _patch(good, ovf_pg[0] * ps + 22, struct.pack("<H", 5)),
            "overflow chain ends",
        ),
        "overflow-long": (
            _patch(good, ovf_pg[0] * ps + 22, struct.pack("<H", 5000)),
            "claims 5000 bytes",
        ),
        "overflow-type": (_patch(good, ovf_pg[0] * ps + 25, b"\x0d"), "has type 13"),
    }


CASES = [
    "empty", "zeros", "text", "btree", "version", "pagesize", "encrypted", "mid-page",
    "last-page", "buckets", "page-type", "odd-items", "many-items", "item-offset", "item-type",
    "duplicates", "chain-out", "chain-loop", "overflow-loop", "overflow-short", "overflow-long",
    "overflow-type",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_corrupt_file_is_a_clear_error(good: bytes, case: str) -> None:
    data, problem = _corrupt(good)[case]
    with pytest.raises(BadInputError, match=problem) as err:
        parse_bdb(data, PACKAGES)
    assert str(err.value).startswith(f"{PACKAGES}: ")
    assert "\n" not in str(err.value)


def test_corrupt_header_blob_names_the_record(tmp_path: Path, amzn2: Blobs) -> None:
    bad = struct.pack(">II", 1, 10**6) + bytes(40)  # index claims more data than the blob holds
    path = r.packages_file(tmp_path / "Packages", [*amzn2, (77, bad)])
    with pytest.raises(BadInputError, match=r"Packages: record 77: index larger than the blob"):
        parse_bdb(path.read_bytes(), PACKAGES)


def test_shared_overflow_chain_is_refused(good: bytes) -> None:
    """Two items naming one overflow chain would multiply the output: refused."""
    ps = 4096
    page = _pages(good, ps, 13)[0] * ps
    entries = struct.unpack_from("<H", good, page + 20)[0]
    offsets = struct.unpack_from(f"<{entries}H", good, page + 26)
    refs = [o for o in offsets if good[page + o] == 3]
    assert len(refs) >= 2
    first = good[page + refs[0] : page + refs[0] + 12]
    data = _patch(good, page + refs[1], first)
    with pytest.raises(BadInputError, match="reached twice"):
        parse_bdb(data, PACKAGES)


def test_scan_goes_on_past_a_corrupt_database(tmp_path: Path, good: bytes) -> None:
    b.write(tmp_path, "etc/os-release", r.AMZN2_OS)
    b.write(tmp_path, PACKAGES, good[:-100])
    b.write(
        tmp_path,
        "usr/lib/python3.7/site-packages/requests-2.20.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: requests\nVersion: 2.20.0\n",
    )
    inv = inventory(tmp_path)
    assert [(p.ecosystem, p.name) for p in inv.packages] == [("PyPI", "requests")]
    assert len(inv.problems) == 1
    assert f"{PACKAGES}: not a valid rpm-bdb file" in inv.problems[0]
    assert "truncated" in inv.problems[0]


def test_random_damage_never_escapes(good: bytes) -> None:
    """Flipped bytes and cut files: packages or a BadInputError, never anything else."""
    rng = random.Random(6)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            del data[rng.randrange(len(data)) :]
        try:
            parse_bdb(bytes(data), PACKAGES)
            outcomes["ok"] += 1
        except BadInputError:
            outcomes["error"] += 1
    assert outcomes["ok"] > 0 and outcomes["error"] > 0


def test_header_offsets_are_bounded() -> None:
    blob = b.rpm_header("bash", "4.2.46", "34.amzn2", epoch=1)
    count, size = struct.unpack_from(">II", blob)
    last = 8 + 16 * (count - 1)  # the EPOCH int32 entry
    with pytest.raises(BadInputError, match="runs past the data"):
        parse_header(_patch(blob, last + 8, struct.pack(">i", size - 2)))
    with pytest.raises(BadInputError, match="points outside the data"):
        parse_header(_patch(blob, 8 + 8, struct.pack(">i", -4)))


def test_registered_for_both_locations() -> None:
    extractor = REGISTRY["rpm-bdb"]
    assert extractor.matches("var/lib/rpm/Packages")
    assert extractor.matches("usr/lib/sysimage/rpm/Packages")
    assert not extractor.matches("var/lib/rpm/Packages.bak")
    assert not extractor.matches("home/user/var/lib/rpm/Packages")
    assert REGISTRY["rpm-ndb"].matches("usr/lib/sysimage/rpm/Packages.db")


# rpm's NDB format (SUSE's Packages.db): laid out by the test from rpm's source, real blobs.

NDB = "usr/lib/sysimage/rpm/Packages.db"


def test_ndb_packages(tmp_path: Path, centos7: Blobs) -> None:
    path = r.ndb_file(tmp_path / "Packages.db", centos7)
    packages = parse_ndb(path.read_bytes(), NDB)
    assert {p.name: (p.version, p.source_name) for p in packages} == r.expected(r.CENTOS7)
    b.write(tmp_path / "root", "etc/os-release", 'ID="opensuse-leap"\nVERSION_ID="15.5"\n')
    b.write(tmp_path / "root", NDB, path.read_bytes())
    assert len(inventory(tmp_path / "root").packages) == len(centos7)
    # More packages than one slot page holds (254): the slot table spans three pages.
    many = [(i + 1, centos7[i % len(centos7)][1]) for i in range(600)]
    path = r.ndb_file(tmp_path / "Packages.db", many)
    assert len(parse_ndb(path.read_bytes(), NDB)) == 600


def test_ndb_corrupt_is_a_clear_error(tmp_path: Path, centos7: Blobs) -> None:
    good = r.ndb_file(tmp_path / "Packages.db", centos7).read_bytes()
    start = struct.unpack_from("<I", good, 40)[0] * 16  # the first slot's blob
    cases = {
        "bad magic": b"RpmX" + good[4:],
        "unsupported NDB version": _patch(good, 4, struct.pack("<I", 1)),
        "truncated": good[:-8],
        "blocks .* outside the file": good[:-16],
        "slot at byte 48": _patch(good, 48, b"Slxx"),
        "outside the file": _patch(good, 40, struct.pack("<I", 10**6)),
        "bad blob head": _patch(good, start, b"BlbX"),
        "checksum mismatch": _patch(good, start + 40, b"\xff"),
        "overlaps": _patch(good, 56, good[40:44]),  # two slots, one blob
    }
    for problem, data in cases.items():
        with pytest.raises(BadInputError, match=problem):
            parse_ndb(data, NDB)
