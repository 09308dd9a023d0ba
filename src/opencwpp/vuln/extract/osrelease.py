"""OS release detection from /etc/os-release (or /usr/lib/os-release), and the OSV ecosystem."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")

# os-release ID -> OSV ecosystem name; how much of VERSION_ID the ecosystem keeps.
_DISTROS = {
    "debian": ("Debian", 1),
    "ubuntu": ("Ubuntu", 2),
    "alpine": ("Alpine", 2),
    "almalinux": ("AlmaLinux", 1),
    "rocky": ("Rocky Linux", 1),
    "rhel": ("Red Hat", 1),
    "amzn": ("Amazon Linux", 1),
    "wolfi": ("Wolfi", 0),
}
# OSV ecosystems that need a release (`Debian:12`): bare, their packages match nothing.
RELEASED_ECOSYSTEMS = frozenset(name for name, parts in _DISTROS.values() if parts)


@dataclass(frozen=True, slots=True)
class OsRelease:
    """The distribution of a root file system."""

    id: str
    version_id: str
    pretty_name: str = ""

    @property
    def ecosystem(self) -> str:
        """OSV ecosystem of its packages (`Debian:12`, `Alpine:v3.20`, `AlmaLinux:9`) or ''."""
        known = _DISTROS.get(self.id)
        if known is None:
            return ""
        name, parts = known
        if parts == 0:
            return name
        release = ".".join(self.version_id.split(".")[:parts])
        if not release:
            return name
        return f"{name}:v{release}" if name == "Alpine" else f"{name}:{release}"


def parse_os_release(text: str) -> OsRelease | None:
    """The os-release fields we need; None when ID is missing."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or key.strip().startswith("#"):
            continue
        try:
            parts = shlex.split(value, comments=False)
        except ValueError:
            parts = [value.strip().strip("\"'")]
        fields[key.strip()] = parts[0] if parts else ""
    if not fields.get("ID"):
        return None
    return OsRelease(
        fields["ID"].lower(), fields.get("VERSION_ID", ""), fields.get("PRETTY_NAME", "")
    )
