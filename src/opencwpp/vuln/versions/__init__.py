"""Version ordering per ecosystem: one module per ordering, one registry, never string compare."""

from __future__ import annotations

from collections.abc import Callable

from opencwpp.vuln.errors import InvalidVersionError
from opencwpp.vuln.versions import apk, dpkg, gem, maven, pep440, rpm, semver

Comparator = Callable[[str, str], int]

ORDERINGS: dict[str, Comparator] = {
    "pep440": pep440.compare,
    "dpkg": dpkg.compare,
    "rpm": rpm.compare,
    "apk": apk.compare,
    "semver": semver.compare,
    "maven": maven.compare,
    "gem": gem.compare,
}

# OSV ecosystem name (the part before any ':') -> ordering.
_ECOSYSTEMS = {
    "PyPI": "pep440",
    "Debian": "dpkg",
    "Ubuntu": "dpkg",
    "Alpine": "apk",
    "Wolfi": "apk",
    "Chainguard": "apk",
    "AlmaLinux": "rpm",
    "Rocky Linux": "rpm",
    "Red Hat": "rpm",
    "openSUSE": "rpm",
    "SUSE": "rpm",
    "Mageia": "rpm",
    "Amazon Linux": "rpm",
    "npm": "semver",
    "Go": "semver",
    "crates.io": "semver",
    "Hex": "semver",
    "Pub": "semver",
    "NuGet": "semver",
    "Packagist": "semver",
    "Maven": "maven",
    "RubyGems": "gem",
}

__all__ = ["ORDERINGS", "Comparator", "InvalidVersionError", "comparator_for", "ordering_of"]


def ordering_of(ecosystem: str) -> str | None:
    """The ordering name of an OSV ecosystem (`Debian:12` -> `dpkg`), None when unknown."""
    return _ECOSYSTEMS.get(ecosystem.split(":", 1)[0])


def comparator_for(ecosystem: str) -> Comparator | None:
    """The compare(a, b) -> -1/0/1 function for an OSV ecosystem, None when unknown."""
    name = ordering_of(ecosystem)
    return ORDERINGS[name] if name else None
