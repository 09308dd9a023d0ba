"""Python packages: installed metadata and lock files.

Installed: dist-info METADATA, egg-info PKG-INFO. Locks: pinned requirements*.txt,
poetry.lock, uv.lock, Pipfile.lock.
"""

from __future__ import annotations

import json
import re
import tomllib

from opencwpp.vuln.extract.base import Extractor, Package, basename, register

PYPI = "PyPI"
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;#,]+)")


def parse_metadata(data: bytes, path: str) -> list[Package]:
    """Name and Version of a core-metadata file (email-header format; headers end at a blank)."""
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version") and key not in fields:
            fields[key] = value.strip()
    if fields.get("Name") and fields.get("Version"):
        return [Package(PYPI, fields["Name"], fields["Version"], path)]
    return []


def parse_requirements(data: bytes, path: str) -> list[Package]:
    """Exactly pinned requirements (`name==version`); ranges say nothing installed."""
    out = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        if m := _PIN.match(line):
            out.append(Package(PYPI, m.group(1), m.group(2), path))
    return out


def parse_toml_lock(data: bytes, path: str) -> list[Package]:
    """poetry.lock and uv.lock: [[package]] tables with name and version."""
    doc = tomllib.loads(data.decode("utf-8"))
    return [
        Package(PYPI, p["name"], str(p["version"]), path)
        for p in doc.get("package", [])
        if isinstance(p, dict) and p.get("name") and p.get("version")
    ]


def parse_pipfile_lock(data: bytes, path: str) -> list[Package]:
    """Pipfile.lock: default and develop sections, versions as `==x`."""
    doc = json.loads(data)
    out = []
    for section in ("default", "develop"):
        for name, spec in (doc.get(section) or {}).items():
            version = spec.get("version", "") if isinstance(spec, dict) else ""
            if version.startswith("=="):
                out.append(Package(PYPI, name, version[2:], path))
    return out


def _metadata(path: str) -> bool:
    parent = path.rsplit("/", 2)[-2] if path.count("/") else ""
    name = basename(path)
    return (
        (name == "METADATA" and parent.endswith(".dist-info"))
        or (name == "PKG-INFO" and parent.endswith(".egg-info"))
        or (path.endswith(".egg-info") and "/" in path)
    )


def _requirements(path: str) -> bool:
    name = basename(path)
    return name.startswith("requirements") and name.endswith(".txt")


register(Extractor("python-metadata", _metadata, parse_metadata, max_bytes=4 * 1024 * 1024))
register(Extractor("python-requirements", _requirements, parse_requirements))
register(
    Extractor("python-lock", lambda p: basename(p) in ("poetry.lock", "uv.lock"), parse_toml_lock)
)
register(Extractor("pipfile-lock", lambda p: basename(p) == "Pipfile.lock", parse_pipfile_lock))
