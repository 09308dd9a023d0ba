"""Debian/Ubuntu packages from the dpkg status database (and distroless status.d files)."""

from __future__ import annotations

import re

from opencwpp.vuln.extract.base import DPKG, Extractor, Package, register

_SOURCE = re.compile(r"^(?P<name>\S+)(?:\s+\((?P<version>[^)]+)\))?$")


def _paragraphs(text: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                out.append(current)
            current, last = {}, ""
        elif line[0] in " \t":
            if last:
                current[last] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            last = key.strip()
            current[last] = value.strip()
    if current:
        out.append(current)
    return out


def parse_status(data: bytes, path: str) -> list[Package]:
    """Installed packages of a dpkg status file, with their source package and version."""
    packages = []
    for para in _paragraphs(data.decode("utf-8", errors="replace")):
        name, version = para.get("Package"), para.get("Version")
        status = para.get("Status", "install ok installed")
        if not name or not version or not status.endswith(" installed"):
            continue
        source_name, source_version = name, version
        if m := _SOURCE.match(para.get("Source", "")):
            source_name = m.group("name")
            source_version = m.group("version") or version
        packages.append(Package(DPKG, name, version, path, source_name, source_version))
    return packages


def _matches(path: str) -> bool:
    return path == "var/lib/dpkg/status" or path.startswith("var/lib/dpkg/status.d/")


EXTRACTOR = register(Extractor("dpkg", _matches, parse_status))
