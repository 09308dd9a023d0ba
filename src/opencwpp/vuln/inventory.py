"""One entry point for every target kind: a directory, an image tarball, a zip, an SBOM, a disk."""

from __future__ import annotations

import tarfile
import tempfile
import zipfile
from pathlib import Path

from opencwpp.core.text import storable_text
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.walk import Inventory, resolve_os_packages, scan_tree
from opencwpp.vuln.sbom.reader import read_sbom, sniff
from opencwpp.vuln.targets.archive import materialize_zip
from opencwpp.vuln.targets.image import materialize
from opencwpp.vuln.targets.optional import disk_parser


def _looks_like_disk(path: Path) -> bool:
    """Whether the file starts like a disk: a partition table, an LVM2 or LUKS volume, ext, XFS.

    Not a tar archive's first header (`ustar` at 257): a tarball's data could hold anything.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(2048)
    except OSError:
        return False
    if head[257:262] == b"ustar":
        return False
    return (
        head[510:512] == b"\x55\xaa"
        or head[512:520] == b"EFI PART"
        or head[1080:1082] == b"\x53\xef"
        or head[:4] == b"XFSB"
        or any(head[i : i + 8] == b"LABELONE" for i in range(0, 2048, 512))
        or head[:6] == b"LUKS\xba\xbe"
    )


def target_kind(path: Path) -> str:
    """`directory`, `sbom`, `zip`, `image` or `disk`, from what the file holds (not its name)."""
    if not path.exists():
        raise BadInputError(str(path), "no such file or directory")
    if path.is_dir():
        return "directory"
    if sniff(path):
        return "sbom"
    if zipfile.is_zipfile(path):
        return "zip"
    if _looks_like_disk(path):  # before tar: a raw file system starts with a zero block
        return "disk"
    try:
        if tarfile.is_tarfile(path):
            return "image"
    except (OSError, EOFError, tarfile.TarError):
        pass
    if path.suffix.lower() == ".json":
        return "sbom"  # a JSON file that is no SBOM gets the SBOM reader's clear error
    raise BadInputError(str(path), "not a directory, image tarball, zip, SBOM file or disk image")


def inventory(path: Path) -> Inventory:
    """The packages of a target; per-file problems are collected, a bad target raises."""
    kind = target_kind(path)
    target = storable_text(str(path.resolve()))  # a name that is not UTF-8: `\xff` text
    inv = Inventory(target, kind)
    if kind == "directory":
        return scan_tree(path, inv)
    if kind == "sbom":
        inv.packages, inv.os = read_sbom(path, inv.problems)
        resolve_os_packages(inv)
        return inv
    if kind == "disk":
        parse = disk_parser()
        try:
            with path.open("rb") as fh:
                return parse(fh, inv, str(path))
        except OSError as err:
            raise BadInputError(str(path), f"cannot read ({err.strerror})") from None
    with tempfile.TemporaryDirectory(prefix="cwpp-scan-") as tmp:
        root = Path(tmp)
        if kind == "zip":
            materialize_zip(path, root, inv.problems)
            return scan_tree(root, inv)
        layers, _refs = materialize(path, root, inv.problems)
        return scan_tree(root, inv, layer_of=lambda rel: layers.get(rel, ""))
