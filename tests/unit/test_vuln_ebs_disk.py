"""Disk images parsed in user space: partition tables, ext4 and XFS, damaged and hostile input."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import pytest

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.walk import Inventory
from opencwpp.vuln.inventory import inventory, target_kind
from opencwpp.vuln.targets.disk import disk_inventory, filesystems
from tests.data.vuln import builders as b
from tests.data.vuln.ebs import disks


def _scan(image: bytes) -> Inventory:
    return disk_inventory(io.BytesIO(image), Inventory("disk", "disk"), "disk")


def _names(inv: Inventory) -> list[tuple[str, str, str]]:
    return sorted((p.ecosystem, p.name, p.path) for p in inv.packages)


DEBIAN = [
    ("Debian:12", "libssl3", "var/lib/dpkg/status"),
    ("Debian:12", "openssl", "var/lib/dpkg/status"),
    ("Debian:12", "zlib1g", "var/lib/dpkg/status"),
    ("PyPI", "Django", "usr/lib/python3/dist-packages/Django-3.2.0.dist-info/METADATA"),
]


@pytest.fixture(scope="module")
def ext4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return disks.mkfs_ext4(disks.debian_tree(tmp_path_factory.mktemp("d") / "root"))


@pytest.mark.parametrize("wrap", ["raw", "mbr", "gpt"])
def test_ext4_on_each_partition_layout(ext4: bytes, wrap: str) -> None:
    image = {"raw": ext4, "mbr": disks.with_mbr(ext4), "gpt": disks.with_gpt(ext4)}[wrap]
    problems: list[str] = []
    found = filesystems(io.BytesIO(image), "disk", problems)
    assert [(f.where, f.kind) for f in found] == [
        ("disk" if wrap == "raw" else "disk partition 1", "ext4")
    ]
    inv = _scan(image)
    assert inv.os is not None and inv.os.ecosystem == "Debian:12"
    assert _names(inv) == DEBIAN and inv.problems == problems == []


@pytest.mark.parametrize("wrap", ["raw", "mbr", "gpt"])
def test_xfs_on_each_partition_layout(tmp_path: Path, wrap: str) -> None:
    if not disks.have("mkfs.xfs"):
        pytest.skip("mkfs.xfs not installed")
    xfs = disks.mkfs_xfs(disks.alma_tree(tmp_path / "root"))
    image = {"raw": xfs, "mbr": disks.with_mbr(xfs), "gpt": disks.with_gpt(xfs)}[wrap]
    inv = _scan(image)
    assert inv.os is not None and inv.os.ecosystem == "AlmaLinux:9"
    assert sorted((p.name, p.version) for p in inv.packages) == [
        ("bash", "5.1.8-6.el9_1"),
        ("openssl", "1:3.0.1-23.el9_0"),
    ]


def test_random_bytes_are_no_file_system() -> None:
    with pytest.raises(BadInputError, match=r"^disk: no readable ext4 or XFS file system"):
        _scan(os.urandom(2 * 1024 * 1024))


def test_corrupt_superblock_is_named(ext4: bytes) -> None:
    broken = bytearray(disks.with_mbr(ext4))
    sb = disks.START_LBA * disks.SECTOR + 1024
    broken[sb : sb + 4] = struct.pack("<I", 0)  # s_inodes_count: the magic is still there
    with pytest.raises(BadInputError) as err:
        _scan(bytes(broken))
    assert "disk partition 1: corrupt ext4 superblock" in str(err.value)


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    b.write(root, "etc/os-release", disks.DEBIAN_OS)
    b.write(root, "opt/real/status", b.DPKG_STATUS)
    (root / "var/lib").mkdir(parents=True)
    (root / "var/lib/dpkg").symlink_to("/opt/real")  # absolute: would escape a mounted root
    (root / "usr").mkdir()
    (root / "usr/loop").symlink_to("..")
    inv = _scan(disks.mkfs_ext4(root))
    assert inv.packages == [] and inv.problems == []


@pytest.mark.parametrize("wrap", ["raw", "mbr", "gpt"])
def test_disk_image_file_is_a_scan_target(tmp_path: Path, ext4: bytes, wrap: str) -> None:
    # `cwpp vuln scan disk.img`: a `dd` of a volume, told from other targets by its content.
    path = tmp_path / "disk.img"
    image = {"raw": ext4, "mbr": disks.with_mbr(ext4), "gpt": disks.with_gpt(ext4)}[wrap]
    path.write_bytes(image)
    assert target_kind(path) == "disk"
    inv = inventory(path)
    assert inv.kind == "disk" and _names(inv) == DEBIAN
    noise = tmp_path / "noise.bin"
    noise.write_bytes(b"\x01" * 4096)
    with pytest.raises(BadInputError, match="not a directory, image tarball, zip, SBOM"):
        target_kind(noise)
