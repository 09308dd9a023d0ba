"""The file systems of a disk: partitions (GPT, MBR), LVM2 logical volumes, LUKS, ext and XFS.

Each file system found carries the keys an `/etc/fstab` entry may name it by (`fstab.spec_key`):
its UUID and label, its partition's number, PARTUUID and PARTLABEL, its logical volume's
`vg/lv`. An LVM2 physical volume (a partition or the whole disk) is opened with
`dissect.volume` and its linear and striped logical volumes are read like partitions. A LUKS
volume cannot be read without its key: it is reported once and the other volumes are read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Protocol

from dissect.extfs import ExtFS  # type: ignore[import-untyped]
from dissect.extfs.exceptions import Error as ExtError  # type: ignore[import-untyped]
from dissect.volume.disk import Disk  # type: ignore[import-untyped]
from dissect.volume.exceptions import Error as VolumeError  # type: ignore[import-untyped]
from dissect.volume.lvm import LVM2, LVM2Device  # type: ignore[import-untyped]
from dissect.xfs import XFS  # type: ignore[import-untyped]
from dissect.xfs.exceptions import Error as XfsError  # type: ignore[import-untyped]

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.targets.fstab import lv_key

# What dissect raises on a damaged structure (it has no single base class for all of it).
FS_ERRORS: tuple[type[Exception], ...] = (
    ExtError,
    XfsError,
    VolumeError,
    EOFError,
    ValueError,
    KeyError,
    IndexError,
    OverflowError,
    struct.error,
    NotImplementedError,
    OSError,
)
# Its reading of LVM2's text metadata (ast.literal_eval, then dataclasses filled from the
# parsed values) also fails with these on hostile text.
LVM_ERRORS: tuple[type[Exception], ...] = (
    *FS_ERRORS,
    SyntaxError,
    RecursionError,
    TypeError,
    AttributeError,
)
_EXT_MAGIC_AT, _EXT_MAGIC = 1080, b"\x53\xef"
_XFS_MAGIC = b"XFSB"
LUKS_MAGIC = b"LUKS\xba\xbe"
ENCRYPTED = "encrypted with LUKS: not readable without its key"
_SECTOR, _LABEL_SECTORS = 512, 4  # LVM2 looks for its label in the first four sectors
_MAX_LVM_METADATA = 4 * 1024 * 1024  # lvm2's own default area is 1 MiB
_MAX_LVS = 256


class Stream(Protocol):
    """A seekable binary reader: a file, a BytesIO, an EBS snapshot reader."""

    def seek(self, offset: int, whence: int = 0, /) -> int: ...  # noqa: D102

    def read(self, size: int = -1, /) -> bytes | None: ...  # noqa: D102


@dataclass
class FileSystem:
    """One parsed file system, with the keys fstab may name it by.

    `where` says where it was found, `disk` is the label its disk was opened with.
    """

    where: str
    kind: str
    fs: Any
    keys: frozenset[str] = frozenset()
    disk: str = ""


@dataclass
class Found:
    """The file systems of a disk, and the volumes that could not be read for lack of a key."""

    filesystems: list[FileSystem] = field(default_factory=list)
    encrypted: list[str] = field(default_factory=list)


def _peek(fh: Stream, offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size) or b""


def _fs_keys(kind: str, fs: Any) -> set[str]:
    label = fs.volume_name if kind == "ext4" else fs.name
    keys = {f"uuid:{str(fs.uuid).lower()}"}
    if label:
        keys.add(f"label:{label}")
    return keys


def open_fs(
    fh: Stream, where: str, problems: list[str], keys: frozenset[str] = frozenset()
) -> FileSystem | None:
    """The ext or XFS file system of `fh`; None (and a problem when damaged) otherwise."""
    if _peek(fh, _EXT_MAGIC_AT, 2) == _EXT_MAGIC:
        kind, opener = "ext4", ExtFS
    elif _peek(fh, 0, 4) == _XFS_MAGIC:
        kind, opener = "xfs", XFS
    else:
        return None
    try:
        fs = opener(fh)
        _ = fs.root.filetype  # the root inode must be readable too
        own = _fs_keys(kind, fs)
    except FS_ERRORS as err:
        problems.append(f"{where}: corrupt {kind} superblock or root ({err or type(err).__name__})")
        return None
    return FileSystem(where, kind, fs, keys | own)


def _lists_end(data: bytes, at: int, size: int, count: int) -> list[list[bytes]] | None:
    """`count` lists of `size`-byte items from `at`, each ended by an all-zero item in `data`."""
    lists: list[list[bytes]] = []
    for _ in range(count):
        items: list[bytes] = []
        while at + size <= len(data) and data[at : at + size] != bytes(size):
            items.append(data[at : at + size])
            at += size
        if at + size > len(data):
            return None
        lists.append(items)
        at += size
    return lists


def lvm_metadata_areas(head: bytes) -> list[tuple[int, int]] | None:
    """(offset, size) of each metadata area of an LVM2 label in `head`; None without a label.

    dissect reads descriptor lists until an all-zero item: lists that do not end inside the
    label sector would make it read on through the disk, so such a label reads as none.
    """
    for i in range(_LABEL_SECTORS):
        sector = head[i * _SECTOR : (i + 1) * _SECTOR]
        if sector[:8] != b"LABELONE" or len(sector) < _SECTOR:
            continue
        (offset,) = struct.unpack_from("<I", sector, 20)
        # pv_header: uuid and device size, then the data area and metadata area lists.
        lists = _lists_end(sector, offset + 40, 16, 2)
        if lists is None:
            return None
        return [struct.unpack("<QQ", item) for item in lists[1]]
    return None


def _metadata_problem(stream: Stream, areas: list[tuple[int, int]]) -> str | None:
    """Why dissect must not read these metadata areas, or None when it may.

    It reads each area header's location list until an all-zero item, and the first
    location's text whole: both must end within bounds.
    """
    if not areas:
        return "LVM2 physical volume without metadata"
    for offset, size in areas:
        header = _peek(stream, offset, _SECTOR)
        found = _lists_end(header, 40, 24, 1) if len(header) == _SECTOR else None
        if found is None:
            return "LVM2 metadata area header unreadable"
        if found[0]:
            (length,) = struct.unpack_from("<Q", found[0][0], 8)
            if not 1 < length <= min(size, _MAX_LVM_METADATA):
                return "LVM2 metadata larger than its area"
    return None


def _lvm(
    stream: Stream, where: str, areas: list[tuple[int, int]], problems: list[str], found: Found
) -> None:
    """The logical volumes of an LVM2 physical volume, each read like a partition."""
    problem = _metadata_problem(stream, areas)
    if problem is not None:
        problems.append(f"{where}: {problem}, skipped")
        return
    try:
        group = LVM2(LVM2Device(stream)).volume_group
        volumes = [lv for lv in group.lv if lv.is_visible][:_MAX_LVS]
    except LVM_ERRORS as err:
        problems.append(f"{where}: unreadable LVM2 metadata ({err or type(err).__name__})")
        return
    for lv in volumes:
        name = f"{group.name}/{lv.name}"
        lv_where = f"{where} LV {name}"
        try:
            opened = lv.open()
        except LVM_ERRORS as err:
            problems.append(f"{lv_where}: not readable ({err or type(err).__name__})")
            continue
        _volume(opened, lv_where, frozenset({lv_key(group.name, lv.name)}), problems, found, False)


def _volume(
    stream: Stream, where: str, keys: frozenset[str], problems: list[str], found: Found, lvm: bool
) -> None:
    """One partition, logical volume or whole disk: LUKS, an LVM2 PV, or a file system."""
    head = _peek(stream, 0, _LABEL_SECTORS * _SECTOR)
    if head.startswith(LUKS_MAGIC):
        problems.append(f"{where}: {ENCRYPTED}")
        found.encrypted.append(where)
        return
    areas = lvm_metadata_areas(head) if lvm else None
    if areas is not None:
        _lvm(stream, where, areas, problems, found)
        return
    opened = open_fs(stream, where, problems, keys)
    if opened is not None:
        found.filesystems.append(opened)


def _partition_keys(disk: Any, part: Any) -> frozenset[str]:
    keys = {f"part:{part.number}"}
    if part.guid is not None:
        keys.add(f"partuuid:{str(part.guid).lower()}")
    if part.name:
        keys.add(f"partlabel:{part.name}")
    serial = disk.serial
    if part.guid is None and serial:
        keys.add(f"partuuid:{serial:08x}-{part.number:02x}")  # MBR: disk signature-number
    return frozenset(keys)


def volumes(fh: Stream, label: str, problems: list[str]) -> Found:
    """Every ext/XFS file system of a disk (per partition and logical volume, or whole).

    Raises BadInputError when none can be read; damaged volumes are `problems`.
    """
    found = Found()
    try:
        disk = Disk(fh)
        partitions = list(disk.partitions)
    except FS_ERRORS:
        disk, partitions = None, []
    for part in partitions:
        where = f"{label} partition {part.number}"
        try:
            _volume(part.open(), where, _partition_keys(disk, part), problems, found, True)
        except FS_ERRORS as err:
            problems.append(f"{where}: unreadable ({err or type(err).__name__})")
    if not found.filesystems and not found.encrypted:
        _volume(fh, label, frozenset(), problems, found, True)
    if not found.filesystems:
        why = "; ".join(problems) or "no partition table or file system recognised"
        raise BadInputError(label, f"no readable ext4 or XFS file system ({why})")
    for fs in found.filesystems:
        fs.disk = label
    return found
