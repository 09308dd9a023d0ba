"""npm packages: package-lock.json (v1, v2, v3) and installed node_modules/*/package.json."""

from __future__ import annotations

import json

from opencwpp.vuln.extract.base import Extractor, Package, basename, register

NPM = "npm"


def parse_lock(data: bytes, path: str) -> list[Package]:
    """A package-lock.json: the `packages` map (v2/v3), else `dependencies` (v1)."""
    doc = json.loads(data)
    out = []
    packages = doc.get("packages")
    if isinstance(packages, dict):
        for key, info in packages.items():
            if not key or not isinstance(info, dict) or info.get("link"):
                continue  # "" is the root project; links point at workspace folders
            name = info.get("name") or key.rsplit("node_modules/", 1)[-1]
            if info.get("version"):
                out.append(Package(NPM, name, str(info["version"]), path))
        return out

    def walk(deps: dict[str, object]) -> None:
        for name, info in deps.items():
            if isinstance(info, dict):
                if isinstance(info.get("version"), str) and not info["version"].startswith(
                    ("file:", "link:")
                ):
                    out.append(Package(NPM, name, info["version"], path))
                walk(info.get("dependencies") or {})

    walk(doc.get("dependencies") or {})
    return out


def parse_package_json(data: bytes, path: str) -> list[Package]:
    """An installed package's own package.json (inside node_modules)."""
    doc = json.loads(data)
    if isinstance(doc, dict) and doc.get("name") and isinstance(doc.get("version"), str):
        return [Package(NPM, str(doc["name"]), doc["version"], path)]
    return []


def _installed(path: str) -> bool:
    if basename(path) != "package.json" or "node_modules/" not in path:
        return False
    # node_modules/<name>/package.json or node_modules/@scope/<name>/package.json
    tail = path.rsplit("node_modules/", 1)[1].split("/")
    return len(tail) == 2 or (len(tail) == 3 and tail[0].startswith("@"))


register(Extractor("npm-lock", lambda p: basename(p) == "package-lock.json", parse_lock))
register(Extractor("npm-installed", _installed, parse_package_json, max_bytes=4 * 1024 * 1024))
