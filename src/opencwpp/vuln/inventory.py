"""One entry point for every target kind: a directory, an image tarball, a zip, an SBOM."""

from __future__ import annotations

import tarfile
import tempfile
import zipfile
from pathlib import Path

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.walk import Inventory, resolve_os_packages, scan_tree
from opencwpp.vuln.sbom.reader import read_sbom, sniff
from opencwpp.vuln.targets.archive import materialize_zip
from opencwpp.vuln.targets.image import materialize


def target_kind(path: Path) -> str:
    """`directory`, `sbom`, `zip` or `image`, from what the file holds (not its name)."""
    if not path.exists():
        raise BadInputError(str(path), "no such file or directory")
    if path.is_dir():
        return "directory"
    if sniff(path):
        return "sbom"
    if zipfile.is_zipfile(path):
        return "zip"
    try:
        if tarfile.is_tarfile(path):
            return "image"
    except (OSError, EOFError, tarfile.TarError):
        pass
    if path.suffix.lower() == ".json":
        return "sbom"  # a JSON file that is no SBOM gets the SBOM reader's clear error
    raise BadInputError(str(path), "not a directory, image tarball, zip or SBOM file")


def inventory(path: Path) -> Inventory:
    """The packages of a target; per-file problems are collected, a bad target raises."""
    kind = target_kind(path)
    target = str(path.resolve())
    inv = Inventory(target, kind)
    if kind == "directory":
        return scan_tree(path, inv)
    if kind == "sbom":
        inv.packages, inv.os = read_sbom(path, inv.problems)
        resolve_os_packages(inv)
        return inv
    with tempfile.TemporaryDirectory(prefix="cwpp-scan-") as tmp:
        root = Path(tmp)
        if kind == "zip":
            materialize_zip(path, root, inv.problems)
            return scan_tree(root, inv)
        layers, _refs = materialize(path, root, inv.problems)
        return scan_tree(root, inv, layer_of=lambda rel: layers.get(rel, ""))
