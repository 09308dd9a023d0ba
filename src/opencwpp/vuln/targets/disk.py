"""Disk images (a raw volume, or an EBS snapshot read block by block) parsed in user space.

The partition table (GPT, MBR), LVM2 logical volumes and the ext2/3/4 and XFS file systems are
read with the `dissect` libraries (`volumes.py`); nothing is mounted or run. The root file
system's /etc/fstab puts the other volumes at their mount points (`fstab.py`), so a /var or
/usr on its own partition, logical volume or disk is read where the package databases expect
it. The walk lists every directory, but copies only the files an extractor reads (package
databases, os-release, metadata, executables for build info) into a private temporary
directory, where the ordinary extractors take over. Symlinks are never followed or created;
names, counts and sizes are bounded like an archive's.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.base import REGISTRY
from opencwpp.vuln.extract.walk import Inventory, extractors_for, scan_tree, wanted
from opencwpp.vuln.targets.fstab import MAX_FSTAB, Mount, parse_fstab
from opencwpp.vuln.targets.safety import Budget
from opencwpp.vuln.targets.volumes import FS_ERRORS, FileSystem, Stream, volumes

__all__ = [
    "FS_ERRORS",
    "DisksRead",
    "FileSystem",
    "Stream",
    "disk_inventory",
    "disks_inventory",
    "filesystems",
    "layout",
]

_SKIP_TOP = {"proc", "sys", "dev", "run", "tmp"}
_MAX_DEPTH = 64
_MAX_FILE = max(e.max_bytes for e in REGISTRY.values())
_CHUNK = 1024 * 1024
_ROOT_MARKS = ("etc/fstab", "etc/os-release", "usr/lib/os-release")


def filesystems(fh: Stream, label: str, problems: list[str]) -> list[FileSystem]:
    """The ext/XFS file systems of a disk (see `volumes.volumes`)."""
    return volumes(fh, label, problems).filesystems


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
    fs: FileSystem,
    dest: Path,
    budget: Budget,
    problems: list[str],
    label: str,
    at: str = "",
    hidden: frozenset[str] = frozenset(),
    origin: dict[str, str] | None = None,
) -> None:
    """Copies the files the extractors read from `fs` into `dest` (no links followed).

    `at` is the mount point (root-relative, '' for the root): paths are the merged view's.
    Directories in `hidden` are other file systems' mount points, which cover them. `origin`
    gets the disk of each file copied, by its path.
    """
    seen: set[int] = set()
    stack: list[tuple[Any, str, int]] = [(fs.fs.root, at, 0)]
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
                    top = depth == 0 and not at and name in _SKIP_TOP
                    if not top and rel not in hidden:
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
                if origin is not None:
                    origin[rel] = fs.disk
            except FS_ERRORS as err:
                problems.append(f"{label}:/{rel}: unreadable ({err or type(err).__name__})")


def _lookup(fs: FileSystem, path: str) -> Any | None:
    """The regular file at `path` in `fs` (symlinks not followed), or None."""
    node = fs.fs.root
    parts = path.split("/")
    for i, part in enumerate(parts):
        node = next((e for n, e in _entries(node) if n == part), None)
        want = stat.S_IFREG if i == len(parts) - 1 else stat.S_IFDIR
        if node is None or node.filetype != want:
            return None
    return node


def _root_of(found: list[FileSystem], problems: list[str]) -> FileSystem | None:
    """The root file system: the first with an /etc/fstab, else the first with an os-release."""
    for mark in _ROOT_MARKS:
        for fs in found:
            try:
                if _lookup(fs, mark) is not None:
                    return fs
            except FS_ERRORS as err:
                problems.append(f"{fs.where}:/{mark}: unreadable ({err or type(err).__name__})")
    return None


def _mounts(root: FileSystem, problems: list[str]) -> list[Mount]:
    try:
        node = _lookup(root, "etc/fstab")
        if node is None:
            return []
        if int(node.size) > MAX_FSTAB:
            problems.append(f"{root.where}:/etc/fstab: larger than {MAX_FSTAB} bytes, not read")
            return []
        text = node.open().read(MAX_FSTAB).decode("utf-8", "replace")
    except FS_ERRORS as err:
        problems.append(f"{root.where}:/etc/fstab: unreadable ({err or type(err).__name__})")
        return []
    return parse_fstab(text, f"{root.where}:/etc/fstab", problems)


def layout(found: list[FileSystem], problems: list[str]) -> list[tuple[FileSystem, str]]:
    """(file system, mount point) pairs in the order they are copied (earlier ones win a path).

    First the root and its fstab mounts, then the file systems fstab does not name, at '/'.

    An fstab entry naming no file system found (a disk not read, an unreadable or encrypted
    volume, a device name we cannot map, one already mounted) is reported in `problems`.
    UUIDs and labels are matched on every disk read; device names (/dev/nvme0n1p2) only on
    the root's disk, and only when the root's own entry names it the same way: with the root
    mounted by UUID, the disk's name is unknown.
    """
    root = _root_of(found, problems)
    if root is None:
        return [(fs, "") for fs in found]
    placed: list[tuple[FileSystem, str]] = [(root, "")]
    used = {id(root)}
    mounts = _mounts(root, problems)
    # A device name (/dev/xvdf1) is this disk's only when the root is named the same way.
    ours = next((m.disk for m in mounts if m.mountpoint == ""), "")
    for mount in mounts:
        if not mount.mountpoint:
            continue
        match = None
        if mount.key and mount.disk == (ours if mount.disk else ""):
            on = [fs for fs in found if not mount.disk or fs.disk == root.disk]
            match = next((fs for fs in on if mount.key in fs.keys), None)
        if match is None or id(match) in used:
            problems.append(
                f"{root.where}:/etc/fstab: {mount.spec} (mounted at /{mount.mountpoint}) "
                "matches no file system read, not scanned"
            )
            continue
        placed.append((match, mount.mountpoint))
        used.add(id(match))
    return placed + [(fs, "") for fs in found if id(fs) not in used]


def _hidden(placed: list[tuple[FileSystem, str]], at: str) -> frozenset[str]:
    """The mount points below `at`: directories of the file system at `at` that are covered."""
    return frozenset(m for _, m in placed if m and m != at and (not at or m.startswith(at + "/")))


@dataclass
class DisksRead:
    """What `disks_inventory` could not read, per disk label, and the disk of each file."""

    failed: dict[str, BadInputError] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)


def disks_inventory(disks: Sequence[tuple[Stream, str]], inv: Inventory) -> DisksRead:
    """The packages of several disks of one machine, as one root with fstab's mounts, into `inv`.

    The root file system's fstab may name volumes on any of the disks (a /var on its own EBS
    volume). A disk without a readable file system is in `failed` and the others are read
    (when none is, `inv` is left as it was). Damaged files, unmappable fstab entries and
    encrypted volumes are problems of `inv` (the encrypted ones also in `inv.encrypted`).
    """
    read = DisksRead()
    found: list[FileSystem] = []
    problems: list[str] = []
    for fh, label in disks:
        try:
            volumes_found = volumes(fh, label, problems)
        except BadInputError as err:
            read.failed[label] = err
            continue
        found.extend(volumes_found.filesystems)
        inv.encrypted.extend(volumes_found.encrypted)
    inv.problems.extend(problems if found else [])
    if not found:
        return read
    placed = layout(found, inv.problems)
    budget = Budget(inv.target)
    with tempfile.TemporaryDirectory(prefix="cwpp-disk-") as tmp:
        root = Path(tmp)
        for fs, at in placed:
            hidden = _hidden(placed, at) if at or fs is placed[0][0] else frozenset()
            materialize_fs(fs, root, budget, inv.problems, fs.where, at, hidden, read.origin)
        scan_tree(root, inv)
    return read


def disk_inventory(fh: Stream, inv: Inventory, label: str) -> Inventory:
    """The packages of one disk's file systems, as one root with fstab's mounts, into `inv`.

    Raises BadInputError when no file system can be read (see `disks_inventory`).
    """
    read = disks_inventory([(fh, label)], inv)
    if label in read.failed:
        raise read.failed[label]
    return inv
