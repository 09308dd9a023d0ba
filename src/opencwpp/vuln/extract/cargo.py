"""Rust crates from Cargo.lock."""

from __future__ import annotations

import tomllib

from opencwpp.vuln.extract.base import Extractor, Package, basename, register


def parse_cargo_lock(data: bytes, path: str) -> list[Package]:
    """[[package]] entries that come from a registry (path/git dependencies have no source)."""
    doc = tomllib.loads(data.decode("utf-8"))
    return [
        Package("crates.io", p["name"], str(p["version"]), path)
        for p in doc.get("package", [])
        if isinstance(p, dict)
        and p.get("name")
        and p.get("version")
        and str(p.get("source", "")).startswith(("registry+", "sparse+"))
    ]


register(Extractor("cargo-lock", lambda p: basename(p) == "Cargo.lock", parse_cargo_lock))
