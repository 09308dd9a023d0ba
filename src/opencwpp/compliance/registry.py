"""The frameworks that ship with opencwpp, discovered from `compliance/frameworks/*.yaml`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from opencwpp.compliance.model import Framework, load_framework
from opencwpp.core.errors import UsageError
from opencwpp.core.registry import Registry

FRAMEWORKS_DIR = Path(__file__).parent / "frameworks"


def discover(folder: Path) -> Registry[Framework]:
    """All framework files in `folder`, sorted by id."""
    frameworks: Registry[Framework] = Registry("framework")
    loaded = sorted((load_framework(p) for p in folder.glob("*.yaml")), key=lambda f: f.id)
    for framework in loaded:
        frameworks.add(framework.id, framework)
    return frameworks


@lru_cache(maxsize=1)
def builtin_frameworks() -> Registry[Framework]:
    """The frameworks that ship with opencwpp."""
    return discover(FRAMEWORKS_DIR)


def get_framework(framework_id: str) -> Framework:
    """A shipped framework by id; an unknown id is a usage error listing the known ones."""
    frameworks = builtin_frameworks()
    if framework_id not in frameworks:
        known = ", ".join(frameworks.keys())
        raise UsageError(f"unknown framework {framework_id!r}: use one of {known}")
    return frameworks.get(framework_id)
