"""Small real disk images for the EBS snapshot tests: ext4 / XFS made by the real mkfs tools
from a directory tree, wrapped in an MBR or GPT partition table built here byte by byte."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import uuid
import zlib
from pathlib import Path

import pytest
from tests.data.vuln import builders as b

SECTOR = 512
START_LBA = 2048  # 1 MiB, where partitioning tools put the first partition
LINUX_FS = uuid.UUID("0FC63DAF-8483-4772-8E79-3D69D8477DE4")
DEBIAN_OS = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
ALMA_OS = 'NAME="AlmaLinux"\nID="almalinux"\nVERSION_ID="9.0"\nPRETTY_NAME="AlmaLinux 9.0"\n'


def have(name: str) -> bool:
    """Whether a mkfs tool is installed (under CI it must be: a missing one fails)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{name} not installed (scripts/install-test-tools.sh installs it)")
    return found is not None


def tool(name: str) -> str:
    """The path of a mkfs tool; skip without it, except under CI (scripts/install-test-tools.sh)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        message = f"{name} not installed (scripts/install-test-tools.sh installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def debian_tree(root: Path) -> Path:
    """A Debian 12 root: os-release, the dpkg status of the vuln fixtures, a Python package."""
    b.write(root, "etc/os-release", DEBIAN_OS)
    b.write(root, "var/lib/dpkg/status", b.DPKG_STATUS)
    b.write(
        root,
        "usr/lib/python3/dist-packages/Django-3.2.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: Django\nVersion: 3.2.0\n",
    )
    b.write(root, "home/user/notes.txt", "not a package database\n")
    return root


def alma_tree(root: Path) -> Path:
    """An AlmaLinux 9 root: an rpmdb.sqlite with an old openssl and a just-fixed bash."""
    b.write(root, "etc/os-release", ALMA_OS)
    b.rpmdb(
        root / "var/lib/rpm/rpmdb.sqlite",
        [("openssl", "3.0.1", "23.el9_0", 1), ("bash", "5.1.8", "6.el9_1", None)],
    )
    return root


def mkfs_ext4(tree: Path, size_mb: int = 16) -> bytes:
    """An ext4 file system holding `tree` (mkfs.ext4 -d, no root or mount needed)."""
    image = tree.parent / f"{tree.name}.ext4"
    with image.open("wb") as f:
        f.truncate(size_mb * 1024 * 1024)
    subprocess.run([tool("mkfs.ext4"), "-q", "-F", "-d", str(tree), str(image)], check=True)
    return image.read_bytes()


def _proto(tree: Path, lines: list[str], depth: int) -> None:
    for path in sorted(tree.iterdir()):
        if path.is_dir():
            lines.append(f"{' ' * depth}{path.name} d--755 0 0")
            _proto(path, lines, depth + 1)
            lines.append(f"{' ' * depth}$")
        else:
            lines.append(f"{' ' * depth}{path.name} ---644 0 0 {path}")


def mkfs_xfs(tree: Path, size_mb: int = 32) -> bytes:
    """An XFS file system holding `tree` (mkfs.xfs -p protofile).

    mkfs.xfs refuses file systems under 300 MB unless its test-suite variables are set; the
    small size keeps the upload quick, the format is the same.
    """
    lines = ["/cwpp", "0 0", "d--755 0 0"]
    _proto(tree, lines, 1)
    lines.append("$")
    proto = tree.parent / f"{tree.name}.proto"
    proto.write_text("\n".join(lines) + "\n")
    image = tree.parent / f"{tree.name}.xfs"
    with image.open("wb") as f:
        f.truncate(size_mb * 1024 * 1024)
    env = {**os.environ, "TEST_DIR": "1", "TEST_DEV": "1", "QA_CHECK_FS": "1"}
    subprocess.run(
        [tool("mkfs.xfs"), "-q", "-f", "-p", str(proto), str(image)], check=True, env=env
    )
    return image.read_bytes()


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % SECTOR)


def with_mbr(fs: bytes, part_type: int = 0x83) -> bytes:
    """A disk: an MBR with one partition at 1 MiB holding `fs`."""
    fs = _pad(fs)
    entry = struct.pack(
        "<B3sB3sII", 0, b"\0\0\0", part_type, b"\0\0\0", START_LBA, len(fs) // SECTOR
    )
    mbr = bytes(446) + entry + bytes(48) + b"\x55\xaa"
    return mbr + bytes((START_LBA - 1) * SECTOR) + fs


def _gpt_header(current: int, backup: int, entries_lba: int, last: int, crc: int) -> bytes:
    disk_guid = uuid.UUID("5e0c1d2a-0000-4000-8000-00000000cafe").bytes_le
    fields = (b"EFI PART", 0x00010000, 92, 0, 0, current, backup, 34, last, disk_guid)
    head = struct.pack("<8sIIIIQQQQ16s", *fields)
    tail = struct.pack("<QIII", entries_lba, 128, 128, crc)
    header = head + tail
    header = header[:16] + struct.pack("<I", zlib.crc32(header)) + header[20:]
    return header + bytes(SECTOR - len(header))


def with_gpt(fs: bytes) -> bytes:
    """A disk: protective MBR, primary and backup GPT, one Linux partition at 1 MiB."""
    fs = _pad(fs)
    first, count = START_LBA, len(fs) // SECTOR
    total = first + count + 33 + 2048  # backup entries and header after a gap
    entry = struct.pack(
        "<16s16sQQQ72s",
        LINUX_FS.bytes_le,
        uuid.UUID("5e0c1d2a-0000-4000-8000-0000000000a1").bytes_le,
        first,
        first + count - 1,
        0,
        "root".encode("utf-16-le"),
    )
    entries = entry + bytes(128 * 127)
    crc = zlib.crc32(entries)
    last_usable = total - 34
    primary = _gpt_header(1, total - 1, 2, last_usable, crc)
    backup = _gpt_header(total - 1, 1, total - 33, last_usable, crc)
    protective = struct.pack("<B3sB3sII", 0, b"\0\2\0", 0xEE, b"\xff\xff\xff", 1, total - 1)
    mbr = bytes(446) + protective + bytes(48) + b"\x55\xaa"
    disk = bytearray(total * SECTOR)
    disk[0:SECTOR] = mbr
    disk[SECTOR : 2 * SECTOR] = primary
    disk[2 * SECTOR : 2 * SECTOR + len(entries)] = entries
    disk[first * SECTOR : first * SECTOR + len(fs)] = fs
    disk[(total - 33) * SECTOR : (total - 33) * SECTOR + len(entries)] = entries
    disk[(total - 1) * SECTOR :] = backup
    return bytes(disk)
