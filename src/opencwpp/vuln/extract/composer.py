"""PHP packages from composer.lock (and vendor/composer/installed.json)."""

from __future__ import annotations

import json

from opencwpp.vuln.extract.base import Extractor, Package, basename, register


def parse_composer(data: bytes, path: str) -> list[Package]:
    """`packages` and `packages-dev` entries with a name and version."""
    doc = json.loads(data)
    if isinstance(doc, list):
        entries = doc
    else:
        entries = [*(doc.get("packages") or []), *(doc.get("packages-dev") or [])]
    return [
        Package("Packagist", e["name"], str(e["version"]).removeprefix("v"), path)
        for e in entries
        if isinstance(e, dict) and e.get("name") and e.get("version")
    ]


def _matches(path: str) -> bool:
    return basename(path) == "composer.lock" or path.endswith("vendor/composer/installed.json")


register(Extractor("composer", _matches, parse_composer))
