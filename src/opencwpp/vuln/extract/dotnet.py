""".NET packages from NuGet lock files (packages.lock.json) and *.deps.json."""

from __future__ import annotations

import json

from opencwpp.vuln.extract.base import Extractor, Package, basename, register

NUGET = "NuGet"


def parse_packages_lock(data: bytes, path: str) -> list[Package]:
    """packages.lock.json: {dependencies: {framework: {name: {resolved}}}}."""
    doc = json.loads(data)
    out = {}
    for deps in (doc.get("dependencies") or {}).values():
        for name, info in (deps or {}).items():
            if isinstance(info, dict) and info.get("resolved") and info.get("type") != "Project":
                out[(name, info["resolved"])] = Package(NUGET, name, info["resolved"], path)
    return list(out.values())


def parse_deps_json(data: bytes, path: str) -> list[Package]:
    """*.deps.json: `libraries` keys `Name/Version` of type package."""
    doc = json.loads(data)
    out = []
    for key, info in (doc.get("libraries") or {}).items():
        if isinstance(info, dict) and info.get("type") == "package" and "/" in key:
            name, version = key.rsplit("/", 1)
            out.append(Package(NUGET, name, version, path))
    return out


register(
    Extractor("nuget-lock", lambda p: basename(p) == "packages.lock.json", parse_packages_lock)
)
register(Extractor("dotnet-deps", lambda p: p.endswith(".deps.json"), parse_deps_json))
