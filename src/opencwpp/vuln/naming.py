"""Package identity: OSV ecosystem names, normalised name keys and package URLs (purl)."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

_PEP503 = re.compile(r"[-_.]+")

# OSV ecosystem base name -> purl type (and namespace for distributions).
PURL_TYPES = {
    "PyPI": "pypi",
    "npm": "npm",
    "Go": "golang",
    "Maven": "maven",
    "RubyGems": "gem",
    "crates.io": "cargo",
    "Packagist": "composer",
    "NuGet": "nuget",
    "Debian": "deb",
    "Ubuntu": "deb",
    "Alpine": "apk",
    "AlmaLinux": "rpm",
    "Rocky Linux": "rpm",
    "Red Hat": "rpm",
    "Amazon Linux": "rpm",
}
_PURL_ECOSYSTEMS = {v: k for k, v in PURL_TYPES.items() if k not in ("Ubuntu", "Rocky Linux")}
_DISTRO_NAMESPACE = {
    "Debian": "debian",
    "Ubuntu": "ubuntu",
    "Alpine": "alpine",
    "AlmaLinux": "almalinux",
    "Rocky Linux": "rocky",
    "Red Hat": "redhat",
    "Amazon Linux": "amzn",
}
_NAMESPACE_DISTRO = {v: k for k, v in _DISTRO_NAMESPACE.items()}


def base(ecosystem: str) -> str:
    """`Debian:12` -> `Debian`."""
    return ecosystem.split(":", 1)[0]


def normalize_ecosystem(ecosystem: str) -> str:
    """An OSV ecosystem as matched: Ubuntu's `:LTS`/`:Pro` qualifiers and Alpine's `v` unified."""
    parts = ecosystem.strip().split(":")
    if parts[0] == "Ubuntu" and len(parts) > 2:
        parts = [p for p in parts if p not in ("LTS", "Pro")]
    if parts[0] == "Alpine" and len(parts) == 2 and not parts[1].startswith("v"):
        parts[1] = "v" + parts[1]
    return ":".join(parts)


def name_key(ecosystem: str, name: str) -> str:
    """The name as matched: PEP 503 for PyPI, case-folded where the ecosystem ignores case."""
    eco = base(ecosystem)
    if eco == "PyPI":
        return _PEP503.sub("-", name).lower()
    if eco in ("npm", "crates.io", "NuGet", "Packagist", "Maven"):
        return name.lower()
    return name


def purl(ecosystem: str, name: str, version: str = "", qualifiers: str = "") -> str:
    """A package URL for a package of an OSV ecosystem ('' when the ecosystem has none)."""
    eco = base(ecosystem)
    kind = PURL_TYPES.get(eco)
    if kind is None:
        return ""
    if eco in _DISTRO_NAMESPACE:
        path = f"{_DISTRO_NAMESPACE[eco]}/{quote(name, safe='')}"
        release = ecosystem.split(":", 1)[1] if ":" in ecosystem else ""
        if release and not qualifiers:
            qualifiers = f"distro={_DISTRO_NAMESPACE[eco]}-{quote(release, safe='')}"
    elif eco == "Maven" and ":" in name:
        group, artifact = name.split(":", 1)
        path = f"{quote(group, safe='')}/{quote(artifact, safe='')}"
    elif eco in ("Go", "npm", "Packagist"):
        path = "/".join(quote(p, safe="") for p in name.split("/"))
    else:
        path = quote(name_key(ecosystem, name) if eco == "PyPI" else name, safe="")
    out = f"pkg:{kind}/{path}"
    if version:
        out += "@" + quote(version, safe="")
    if qualifiers:
        out += "?" + qualifiers
    return out


def from_purl(text: str) -> tuple[str, str, str] | None:
    """(ecosystem, name, version) of a package URL, None when it is not one we know."""
    if not text.startswith("pkg:"):
        return None
    body = text[4:].split("#", 1)[0]
    body, _, query = body.partition("?")
    kind, _, rest = body.partition("/")
    version = ""
    if rest.rfind("@") > 0:
        rest, _, version = rest.rpartition("@")
    parts = [unquote(p) for p in rest.split("/") if p]
    if not parts:
        return None
    eco = _PURL_ECOSYSTEMS.get(kind.lower())
    if kind.lower() in ("deb", "apk", "rpm"):
        distro = _NAMESPACE_DISTRO.get(parts[0].lower()) if len(parts) > 1 else None
        if distro is None:
            return None
        release = ""
        for q in query.split("&"):
            key, _, value = q.partition("=")
            if key == "distro":
                release = unquote(value).split("-", 1)[-1]
        return (f"{distro}:{release}" if release else distro), parts[-1], unquote(version)
    if eco is None:
        return None
    name = ":".join(parts) if eco == "Maven" else "/".join(parts)
    return eco, name, unquote(version)
