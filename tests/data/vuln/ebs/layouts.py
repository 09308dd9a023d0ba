"""Multi-volume disk layouts for the disk tests: several GPT partitions, LVM2, a LUKS header.

The file systems are real (mkfs.ext4 / mkfs.xfs with a chosen UUID and label). The LVM2
physical volume is written here byte by byte after lvm2's on-disk format (lib/format_text:
label sector `LABELONE` in sector 1, PV header with its data and metadata area lists, a
metadata area with its header and the text metadata), because the lvm2 tools need a loop
device, which a container does not give. LUKS only needs its header: its volumes are reported,
never opened.
"""

from __future__ import annotations

import os
import struct
import subprocess
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.data.vuln.ebs import disks

SECTOR = disks.SECTOR
MIB = 1024 * 1024


def mkfs_ext4(tree: Path, fs_uuid: str, label: str, size_mb: int = 8) -> bytes:
    """An ext4 file system of `tree` with a chosen UUID and label."""
    image = tree.parent / f"{tree.name}.ext4"
    with image.open("wb") as f:
        f.truncate(size_mb * MIB)
    cmd = [disks.tool("mkfs.ext4"), "-q", "-F", "-U", fs_uuid, "-L", label, "-d", str(tree)]
    subprocess.run([*cmd, str(image)], check=True)
    return image.read_bytes()


def mkfs_xfs(tree: Path, fs_uuid: str, label: str, size_mb: int = 32) -> bytes:
    """An XFS file system of `tree` with a chosen UUID and label (see disks.mkfs_xfs)."""
    lines = ["/cwpp", "0 0", "d--755 0 0"]
    disks._proto(tree, lines, 1)
    lines.append("$")
    proto = tree.parent / f"{tree.name}.proto"
    proto.write_text("\n".join(lines) + "\n")
    image = tree.parent / f"{tree.name}.xfs"
    with image.open("wb") as f:
        f.truncate(size_mb * MIB)
    env = {**os.environ, "TEST_DIR": "1", "TEST_DEV": "1", "QA_CHECK_FS": "1"}
    cmd = [disks.tool("mkfs.xfs"), "-q", "-f", "-m", f"uuid={fs_uuid}", "-L", label]
    subprocess.run([*cmd, "-p", str(proto), str(image)], check=True, env=env)
    return image.read_bytes()


@dataclass(frozen=True)
class Part:
    """A GPT partition: its content, name (PARTLABEL) and unique GUID (PARTUUID)."""

    data: bytes
    name: str
    guid: str


def gpt(parts: list[Part]) -> bytes:
    """A disk: protective MBR, primary and backup GPT, the partitions 1 MiB aligned."""
    entries, layout, lba = b"", [], disks.START_LBA
    for part in parts:
        data = part.data + bytes(-len(part.data) % MIB)
        count = len(data) // SECTOR
        entries += struct.pack(
            "<16s16sQQQ72s",
            disks.LINUX_FS.bytes_le,
            uuid.UUID(part.guid).bytes_le,
            lba,
            lba + count - 1,
            0,
            part.name.encode("utf-16-le"),
        )
        layout.append((lba, data))
        lba += count
    entries += bytes(128 * 128 - len(entries))
    total = lba + 33 + 2048
    crc = zlib.crc32(entries)
    primary = disks._gpt_header(1, total - 1, 2, total - 34, crc)
    backup = disks._gpt_header(total - 1, 1, total - 33, total - 34, crc)
    protective = struct.pack("<B3sB3sII", 0, b"\0\2\0", 0xEE, b"\xff\xff\xff", 1, total - 1)
    disk = bytearray(total * SECTOR)
    disk[0:SECTOR] = bytes(446) + protective + bytes(48) + b"\x55\xaa"
    disk[SECTOR : 2 * SECTOR] = primary
    disk[2 * SECTOR : 2 * SECTOR + len(entries)] = entries
    for start, data in layout:
        disk[start * SECTOR : start * SECTOR + len(data)] = data
    disk[(total - 33) * SECTOR : (total - 33) * SECTOR + len(entries)] = entries
    disk[(total - 1) * SECTOR :] = backup
    return bytes(disk)


EXTENT_SECTORS = 2048  # 1 MiB extents keep the images small
PE_START = MIB  # data area: after the label and a metadata area
MDA_AT, MDA_SIZE = 4096, MIB - 4096
MDA_MAGIC = b" LVM2 x[5A%r0N*>"


def _lvm_uuid(seed: str) -> str:
    """A 32-character LVM uuid; the metadata writes it with dashes (6-4-4-4-4-4-6)."""
    return (seed * 32)[:32]


def _dashed(raw: str) -> str:
    cuts = (6, 4, 4, 4, 4, 4, 6)
    out, at = [], 0
    for n in cuts:
        out.append(raw[at : at + n])
        at += n
    return "-".join(out)


def lvm_pv(vg: str, lvs: list[tuple[str, bytes]], metadata_size: int | None = None) -> bytes:
    """An LVM2 physical volume holding volume group `vg` with one linear LV per (name, data).

    `metadata_size` overrides the size the raw location claims (hostile input tests).
    """
    pv_uuid = _lvm_uuid("pv0PV0")
    extent = EXTENT_SECTORS * SECTOR
    placed, first = [], 0
    for name, data in lvs:
        count = -(-len(data) // extent)
        placed.append((name, data, first, count))
        first += count
    data_size = first * extent
    dev_size = PE_START + data_size
    lv_text = ""
    for i, (name, _data, start, count) in enumerate(placed):
        lv_text += (
            f'{name} {{\nid = "{_dashed(_lvm_uuid(f"lv{i}LV"))}"\n'
            'status = ["READ", "WRITE", "VISIBLE"]\nflags = []\n'
            'creation_time = 1700000000\ncreation_host = "builder"\nsegment_count = 1\n\n'
            f"segment1 {{\nstart_extent = 0\nextent_count = {count}\n\n"
            f'type = "striped"\nstripe_count = 1\n\nstripes = [\n"pv0", {start}\n]\n}}\n}}\n'
        )
    text = (
        f'{vg} {{\nid = "{_dashed(_lvm_uuid("vgVG"))}"\nseqno = 1\nformat = "lvm2"\n'
        'status = ["RESIZEABLE", "READ", "WRITE"]\nflags = []\n'
        f"extent_size = {EXTENT_SECTORS}\nmax_lv = 0\nmax_pv = 0\nmetadata_copies = 0\n\n"
        f'physical_volumes {{\n\npv0 {{\nid = "{_dashed(pv_uuid)}"\n'
        f'device = "/dev/sda2"\n\nstatus = ["ALLOCATABLE"]\nflags = []\n'
        f"dev_size = {dev_size // SECTOR}\npe_start = {PE_START // SECTOR}\n"
        f"pe_count = {first}\n}}\n}}\n\n"
        f"logical_volumes {{\n\n{lv_text}}}\n}}\n"
        "# Generated by a test builder\n\n"
        'contents = "Text Format Volume Group"\nversion = 1\n\ndescription = ""\n\n'
        'creation_host = "builder"\ncreation_time = 1700000000\n'
    ).encode()
    disk = bytearray(dev_size)
    # Label in sector 1: id, its sector, crc (of the rest of the sector), header offset, type.
    pv_header = struct.pack("<32sQ", pv_uuid.encode(), dev_size)
    pv_header += struct.pack("<QQQQ", PE_START, 0, 0, 0)  # data areas, then the end mark
    pv_header += struct.pack("<QQQQ", MDA_AT, MDA_SIZE, 0, 0)  # metadata areas, end mark
    body = struct.pack("<I8s", 32, b"LVM2 001") + pv_header
    body += bytes(SECTOR - 20 - len(body))
    label = b"LABELONE" + struct.pack("<Q", 1)
    label += struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF) + body
    disk[SECTOR : 2 * SECTOR] = label
    # Metadata area: header (checksum, magic, version, start, size), one raw location.
    claimed = len(text) + 1 if metadata_size is None else metadata_size
    raw = struct.pack("<QQII", SECTOR, claimed, zlib.crc32(text) & 0xFFFFFFFF, 0) + bytes(24)
    mda = MDA_MAGIC + struct.pack("<IQQ", 1, MDA_AT, MDA_SIZE) + raw
    mda = struct.pack("<I", zlib.crc32(mda) & 0xFFFFFFFF) + mda
    disk[MDA_AT : MDA_AT + len(mda)] = mda
    disk[MDA_AT + SECTOR : MDA_AT + SECTOR + len(text)] = text
    for _name, data, start, _count in placed:
        at = PE_START + start * extent
        disk[at : at + len(data)] = data
    return bytes(disk)


def luks_header(size: int = MIB, version: int = 2) -> bytes:
    """A LUKS volume as far as a scanner sees it: magic, version, then key material noise."""
    head = b"LUKS\xba\xbe" + struct.pack(">H", version) + bytes(56)
    return head + os.urandom(4096 - len(head)) + bytes(size - 4096)
