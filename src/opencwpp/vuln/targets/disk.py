"""Disk images (a raw volume, or an EBS snapshot read block by block) parsed in user space.

The partition table (GPT, MBR) and the ext2/3/4 and XFS file systems are read with the `dissect`
libraries; nothing is mounted or run. The walk lists every directory, but copies only the files
an extractor reads (package databases, os-release, metadata, executables for build info) into
a private temporary directory, where the ordinary extractors take over. Symlinks are never
followed or created; names, counts and sizes are bounded like an archive's.
"""

from __future__ import annotations

import shutil
import stat
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dissect.extfs import ExtFS  # type: ignore[import-untyped]
from dissect.extfs.exceptions import Error as ExtError  # type: ignore[import-untyped]
from dissect.volume.disk import Disk  # type: ignore[import-untyped]
from dissect.volume.exceptions import Error as VolumeError  # type: ignore[import-untyped]
from dissect.xfs import XFS  # type: ignore[import-untyped]
from dissect.xfs.exceptions import Error as XfsError  # type: ignore[import-untyped]

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.base import REGISTRY
from opencwpp.vuln.extract.walk import Inventory, extractors_for, scan_tree, wanted
from opencwpp.vuln.targets.safety import Budget

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
_EXT_MAGIC_AT, _EXT_MAGIC = 1080, b"\x53\xef"
_XFS_MAGIC = b"XFSB"
_SKIP_TOP = {"proc", "sys", "dev", "run", "tmp"}
_MAX_DEPTH = 64
_MAX_FILE = max(e.max_bytes for e in REGISTRY.values())
_CHUNK = 1024 * 1024


class Stream(Protocol):
    """A seekable binary reader: a file, a BytesIO, an EBS snapshot reader."""

    def seek(self, offset: int, whence: int = 0, /) -> int: ...  # noqa: D102

    def read(self, size: int = -1, /) -> bytes | None: ...  # noqa: D102


@dataclass
class FileSystem:
    """One parsed file system: where it was found, its kind, and dissect's object."""

    where: str
    kind: str
    fs: Any


def _peek(fh: Stream, offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size) or b""


def _open_fs(fh: Stream, where: str, problems: list[str]) -> FileSystem | None:
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
    except FS_ERRORS as err:
        problems.append(f"{where}: corrupt {kind} superblock or root ({err or type(err).__name__})")
        return None
    return FileSystem(where, kind, fs)


def filesystems(fh: Stream, label: str, problems: list[str]) -> list[FileSystem]:
    """The ext/XFS file systems of a disk: per partition (GPT, MBR), or the whole device."""
    found: list[FileSystem] = []
    try:
        disk = Disk(fh)
        partitions = list(disk.partitions)
    except FS_ERRORS:
        partitions = []
    for part in partitions:
        where = f"{label} partition {part.number}"
        try:
            opened = _open_fs(part.open(), where, problems)
        except FS_ERRORS as err:
            problems.append(f"{where}: unreadable ({err or type(err).__name__})")
            continue
        if opened is not None:
            found.append(opened)
    if not found:
        whole = _open_fs(fh, label, problems)
        if whole is not None:
            found.append(whole)
    if not found:
        why = "; ".join(problems) or "no partition table or file system recognised"
        raise BadInputError(label, f"no readable ext4 or XFS file system ({why})")
    return found


def _entries(node: Any) -> Iterator[tuple[str, Any]]:
    for entry in node.iterdir():
        name = entry.filename
        if name and name not in (".", "..") and "/" not in name and "\0" not in name:
            yield name, entry


def _mode(entry: Any) -> int:
    raw = entry.inode
    mode = getattr(raw, "i_mode", None)
    return int(getattr(raw, "di_mode", 0) if mode is None else mode)


def _copy(entry: Any, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    src = entry.open()
    with out.open("wb") as dest:
        shutil.copyfileobj(src, dest, _CHUNK)


def _magic_ok(entry: Any, rel: str, executable: bool) -> bool:
    """Whether some extractor of `rel` wants this content (checked on its first bytes)."""
    extractors = extractors_for(rel, executable)
    if not extractors or any(not e.magic for e in extractors):
        return bool(extractors)
    head = entry.open().read(4)
    return any(head.startswith(e.magic) for e in extractors)


def _wanted_file(entry: Any, rel: str) -> tuple[bool, int]:
    """(copy it?, its mode) for a regular file; the mode is read only when it matters."""
    if wanted(rel, False):
        return True, 0o644
    if not wanted(rel, True):
        return False, 0
    mode = _mode(entry)
    return bool(mode & 0o111) and _magic_ok(entry, rel, True), mode


def materialize_fs(
    fs: FileSystem, dest: Path, budget: Budget, problems: list[str], label: str
) -> None:
    """Copies the files the extractors read from `fs` into `dest` (no links followed)."""
    seen: set[int] = set()
    stack: list[tuple[Any, str, int]] = [(fs.fs.root, "", 0)]
    while stack:
        node, rel_dir, depth = stack.pop()
        if node.inum in seen or depth > _MAX_DEPTH:
            continue
        seen.add(node.inum)
        try:
            entries = sorted(_entries(node), key=lambda e: e[0])
        except FS_ERRORS as err:
            problems.append(f"{label}:/{rel_dir}: unreadable directory ({err})")
            continue
        for name, entry in entries:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            budget.take(0)
            try:
                kind = entry.filetype
                if kind == stat.S_IFDIR:
                    if not (depth == 0 and name in _SKIP_TOP):
                        stack.append((entry, rel, depth + 1))
                    continue
                if kind != stat.S_IFREG:
                    continue
                take, mode = _wanted_file(entry, rel)
                if not take:
                    continue
                size = int(entry.size)
                if size > _MAX_FILE:
                    problems.append(f"{label}:/{rel}: larger than {_MAX_FILE} bytes, skipped")
                    continue
                budget.take(size)
                out = dest / rel
                if out.exists():
                    continue  # the same path in an earlier file system wins
                _copy(entry, out)
                out.chmod(0o700 if mode & 0o111 else 0o600)
            except FS_ERRORS as err:
                problems.append(f"{label}:/{rel}: unreadable ({err or type(err).__name__})")


def disk_inventory(fh: Stream, inv: Inventory, label: str) -> Inventory:
    """The packages of every ext/XFS file system on a disk, into `inv`.

    Raises BadInputError when no file system can be read; damaged files and directories are
    problems of `inv`.
    """
    budget = Budget(label)
    found = filesystems(fh, label, inv.problems)
    with tempfile.TemporaryDirectory(prefix="cwpp-disk-") as tmp:
        root = Path(tmp)
        for fs in found:
            materialize_fs(fs, root, budget, inv.problems, fs.where)
        return scan_tree(root, inv)
