"""What every extractor shares: the package record, the extractor shape and its registry."""

from __future__ import annotations

import json
import sqlite3
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace

from opencwpp.core.text import storable_text
from opencwpp.vuln import naming
from opencwpp.vuln.errors import BadInputError

# OS package placeholders, resolved to `Debian:12`, `Alpine:v3.20`… once /etc/os-release is read.
DPKG, APK, RPM = "dpkg", "apk", "rpm"
OS_KINDS = (DPKG, APK, RPM)

# What a parser may raise on bad input: reported as one line, the scan goes on.
PARSE_ERRORS: tuple[type[Exception], ...] = (
    BadInputError,
    ValueError,  # json.JSONDecodeError, UnicodeDecodeError, tomllib.TOMLDecodeError included
    KeyError,
    IndexError,
    TypeError,
    sqlite3.Error,
    zipfile.BadZipFile,
    tomllib.TOMLDecodeError,
    json.JSONDecodeError,
    EOFError,
    RecursionError,  # nesting deeper than Python's stack (a crafted lock file)
)


@dataclass(frozen=True, slots=True)
class Package:
    """One installed or locked package, and where it was found."""

    ecosystem: str
    name: str
    version: str
    path: str = ""
    source_name: str = ""
    source_version: str = ""
    layer: str = ""

    def __post_init__(self) -> None:
        # Names and paths come from the scanned files: bytes that are not UTF-8 must not
        # reach the lake, a report or an SBOM as lone surrogates (see `storable_text`).
        for name in ("ecosystem", "name", "version", "path", "source_name", "source_version"):
            value = getattr(self, name)
            if not value.isascii():
                object.__setattr__(self, name, storable_text(value))

    @property
    def purl(self) -> str:
        """The package URL (empty for OS packages whose distribution is unknown)."""
        if self.ecosystem in OS_KINDS:
            return ""
        return naming.purl(self.ecosystem, self.name, self.version)

    def at(self, path: str, layer: str = "") -> Package:
        """The same package, found at `path` (in `layer`)."""
        return replace(self, path=path, layer=layer or self.layer)


Parser = Callable[[bytes, str], list[Package]]


@dataclass(frozen=True, slots=True)
class Extractor:
    """An inventory source: which files it reads (by path, or by content) and how."""

    name: str
    matches: Callable[[str], bool]
    parse: Parser
    max_bytes: int = 64 * 1024 * 1024
    executable_only: bool = False  # content-sniffed binaries: only files with an exec bit
    magic: tuple[bytes, ...] = ()  # when set, files not starting with one of these are skipped


REGISTRY: dict[str, Extractor] = {}


def register(extractor: Extractor) -> Extractor:
    """Adds an extractor to the registry (module import time)."""
    if extractor.name in REGISTRY:
        raise ValueError(f"extractor {extractor.name!r} registered twice")
    REGISTRY[extractor.name] = extractor
    return extractor


def basename(path: str) -> str:
    """The last component of a posix path."""
    return path.rsplit("/", 1)[-1]
