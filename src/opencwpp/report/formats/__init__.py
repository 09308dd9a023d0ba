"""The registry of report output formats: one module per format in this package.

A format module defines `FORMAT = Format(...)`. Modules are found with pkgutil on first use, so
adding a format (SARIF, OCSF, JUnit …) is adding one module; modules starting with `_` are helpers.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from opencwpp.core.errors import UsageError
from opencwpp.core.registry import Registry
from opencwpp.report.model import ReportData


@dataclass(frozen=True, slots=True)
class Format:
    """An output format: its CLI name, file extension, media type and renderer."""

    name: str
    extension: str  # without the dot: "json"
    media_type: str
    render: Callable[[ReportData], str]


@lru_cache(maxsize=1)
def registry() -> Registry[Format]:
    """Imports every format module of this package once and registers its `FORMAT`."""
    formats: Registry[Format] = Registry("report format")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        fmt = getattr(module, "FORMAT", None)
        if not isinstance(fmt, Format):
            raise TypeError(f"{module.__name__} defines no FORMAT of type Format")
        if fmt.name != info.name:
            raise ValueError(f"{module.__name__}: format name {fmt.name!r} differs from module")
        formats.add(fmt.name, fmt)
    return formats


def format_names() -> list[str]:
    """The names of every available format, sorted."""
    return registry().keys()


def get_format(name: str) -> Format:
    """Returns the format called `name`; an unknown name is a usage error listing the valid ones."""
    formats = registry()
    if name not in formats:
        raise UsageError(
            f"unknown report format {name!r}; choose one of: {', '.join(formats.keys())}"
        )
    return formats.get(name)


__all__ = ["Format", "format_names", "get_format", "registry"]
