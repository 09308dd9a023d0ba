"""The advisory sources `cwpp vuln db update` downloads, their public URLs, and URL checks.

Four sources: `osv` (a base URL; one `<Ecosystem>/all.zip` per ecosystem), `kev` (CISA's
JSON catalogue), `epss` (the gzip CSV of EPSS scores) and `eol` (endoflife.date's API v1
`products/full`). Each URL can be replaced (a mirror, a test server); plain HTTP is refused
unless the host is loopback, so a mistyped mirror cannot downgrade the transport.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from opencwpp.core.errors import UsageError

DEFAULT_URLS = {
    "osv": "https://osv-vulnerabilities.storage.googleapis.com",
    "kev": "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
    "epss": "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
    "eol": "https://endoflife.date/api/v1/products/full",
}
# The OSV ecosystems our extractors produce, spelt as OSV names its export folders.
# OSV publishes no Amazon Linux feed: pass `--ecosystems` to fetch other folders.
DEFAULT_ECOSYSTEMS = (
    "PyPI",
    "npm",
    "Go",
    "Maven",
    "crates.io",
    "RubyGems",
    "Packagist",
    "NuGet",
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
    "AlmaLinux",
    "Rocky Linux",
)
_CACHE_NAME = {"kev": "kev.json", "epss": "epss.csv.gz", "eol": "eol.json"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True)
class Source:
    """One file to download: its name (`osv:PyPI`, `kev` …), kind, URL and cache file name."""

    name: str
    kind: str
    url: str
    filename: str


def is_loopback(host: str | None) -> bool:
    """Whether `host` is a loopback address (or `localhost`)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(name: str, url: str) -> str:
    """The URL when it is absolute HTTPS (or HTTP to loopback); UsageError otherwise."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as err:
        raise UsageError(f"source {name}: malformed URL {url!r} ({err})") from None
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"source {name}: malformed URL {url!r} (want https://host/…)")
    if parts.scheme == "http" and not is_loopback(host):
        raise UsageError(f"source {name}: {url!r} is not HTTPS (plain HTTP only to loopback)")
    return url


def parse_assignments(values: Iterable[str]) -> dict[str, str]:
    """`--source NAME=URL` values as {name: url}; UsageError on a malformed one."""
    out: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise UsageError(f"--source {value!r}: expected NAME=URL")
        out[name.strip().lower()] = url.strip()
    return out


def resolve_urls(*layers: Mapping[str, str]) -> dict[str, str]:
    """The URL of every source: defaults overridden by each layer in turn, checked."""
    urls = dict(DEFAULT_URLS)
    for layer in layers:
        for name, url in layer.items():
            key = name.lower()
            if key not in DEFAULT_URLS:
                known = ", ".join(DEFAULT_URLS)
                raise UsageError(f"unknown advisory source {name!r}: use one of {known}")
            urls[key] = url
    return {name: check_url(name, url) for name, url in urls.items()}


def plan(urls: Mapping[str, str], ecosystems: Sequence[str] | None = None) -> list[Source]:
    """The files one update fetches: an OSV zip per ecosystem, then KEV, EPSS and EOL."""
    chosen = list(ecosystems) if ecosystems else list(DEFAULT_ECOSYSTEMS)
    sources: list[Source] = []
    base = urls["osv"].rstrip("/")
    for eco in dict.fromkeys(chosen):
        if not eco or eco in (".", "..") or "/" in eco:
            raise UsageError(f"--ecosystems: {eco!r} is not an OSV ecosystem name")
        url = f"{base}/{quote(eco, safe='')}/all.zip"
        sources.append(Source(f"osv:{eco}", "osv", url, f"osv-{_UNSAFE.sub('_', eco)}.zip"))
    for kind in ("kev", "epss", "eol"):
        sources.append(Source(kind, kind, urls[kind], _CACHE_NAME[kind]))
    return sources
