"""Runs the extractors over a root file system (a directory, or a materialised image/zip)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from opencwpp.vuln.extract import REGISTRY
from opencwpp.vuln.extract.base import OS_KINDS, PARSE_ERRORS, Extractor, Package
from opencwpp.vuln.extract.osrelease import OS_RELEASE_PATHS, OsRelease, parse_os_release
from opencwpp.vuln.extract.rpm import one_database
from opencwpp.vuln.versions import ordering_of

MAX_FILES = 2_000_000
_SKIP_TOP = {"proc", "sys", "dev"}


@dataclass
class Inventory:
    """What a scan of one target found: OS, packages, and what could not be read."""

    target: str
    kind: str
    os: OsRelease | None = None
    packages: list[Package] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    encrypted: list[str] = field(default_factory=list)  # volumes not readable without a key


def extractors_for(path: str, executable: bool) -> list[Extractor]:
    """The extractors that want a file, by its root-relative posix path and exec bit."""
    return [
        e for e in REGISTRY.values() if (executable or not e.executable_only) and e.matches(path)
    ]


def wanted(path: str, executable: bool) -> bool:
    """Whether any extractor (or OS detection) reads this file."""
    return path in OS_RELEASE_PATHS or bool(extractors_for(path, executable))


def _read_os(root: Path) -> OsRelease | None:
    for rel in OS_RELEASE_PATHS:
        path = root / rel
        if path.is_file() and not path.is_symlink():
            found = parse_os_release(path.read_text(encoding="utf-8", errors="replace"))
            if found:
                return found
    return None


def resolve_os_packages(inv: Inventory) -> None:
    """Turns dpkg/apk/rpm placeholders into the distribution's OSV ecosystem."""
    eco = inv.os.ecosystem if inv.os else ""
    # Without a matching os-release the ecosystem has no release, so nothing matches: the scan
    # says so with an `os-no-advisory-source` finding (os_status.py), e.g. for CentOS.
    fallback = {"dpkg": "Debian", "apk": "Alpine", "rpm": "Red Hat"}
    inv.packages = [
        replace(p, ecosystem=eco if ordering_of(eco) == p.ecosystem else fallback[p.ecosystem])
        if p.ecosystem in OS_KINDS
        else p
        for p in inv.packages
    ]


def scan_tree(
    root: Path, inv: Inventory, layer_of: Callable[[str], str] | None = None
) -> Inventory:
    """Extracts every package under `root` into `inv` (symlinks are not followed)."""
    inv.os = inv.os or _read_os(root)
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in _SKIP_TOP]
            rel_dir = ""
        dirnames.sort()
        for name in sorted(filenames):
            count += 1
            if count > MAX_FILES:
                inv.problems.append(f"{inv.target}: more than {MAX_FILES} files, rest skipped")
                return inv
            full = Path(dirpath) / name
            rel = f"{rel_dir}/{name}" if rel_dir else name
            try:
                st = full.lstat()
            except OSError as err:
                inv.problems.append(f"{inv.target}:{rel}: {err.strerror}")
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            executable = bool(st.st_mode & 0o111)
            for extractor in extractors_for(rel, executable):
                _run(extractor, full, rel, st.st_size, inv, layer_of)
    inv.packages = one_database(inv.packages)
    resolve_os_packages(inv)
    return inv


def _run(
    extractor: Extractor,
    full: Path,
    rel: str,
    size: int,
    inv: Inventory,
    layer_of: Callable[[str], str] | None,
) -> None:
    where = f"{inv.target}:{rel}"
    if size > extractor.max_bytes:
        inv.problems.append(f"{where}: larger than the {extractor.name} bound, skipped")
        return
    try:
        if extractor.magic:
            with full.open("rb") as handle:
                if not handle.read(4).startswith(extractor.magic):
                    return
        data = full.read_bytes()
        found = extractor.parse(data, rel)
    except OSError as err:
        inv.problems.append(f"{where}: cannot read ({err.strerror})")
        return
    except PARSE_ERRORS as err:
        inv.problems.append(f"{where}: not a valid {extractor.name} file ({err})")
        return
    layer = layer_of(rel) if layer_of else ""
    inv.packages.extend(p.at(p.path, layer) if layer else p for p in found)
