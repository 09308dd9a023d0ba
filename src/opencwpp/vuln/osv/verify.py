"""Checks a downloaded advisory file before use, and reads it into what the importers take.

A file is verified when its download completes (the zip opens and its members' checksums hold,
the JSON parses and has the feed's shape, the gzip CSV inflates and has the EPSS header), so a
truncated or corrupt download never reaches the import. endoflife.date's API v1 document is
converted to the `{product: {title, category, releases: […]}}` shape `vuln db import` reads.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from opencwpp.vuln.errors import BadInputError

MAX_INFLATED_BYTES = 1024**3


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadInputError(str(path), f"not valid JSON ({err})") from None


def verify_zip(path: Path) -> None:
    """The OSV export opens as a zip and every member's CRC holds."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
        raise BadInputError(str(path), f"corrupt zip ({err})") from None
    if bad is not None:
        raise BadInputError(str(path), f"corrupt zip (member {bad!r} fails its checksum)")


def read_kev(path: Path) -> dict[str, Any]:
    """The KEV catalogue; BadInputError unless it has `catalogVersion` and `vulnerabilities`."""
    doc = _json(path)
    if not (
        isinstance(doc, dict)
        and "catalogVersion" in doc
        and isinstance(doc.get("vulnerabilities"), list)
    ):
        raise BadInputError(str(path), "not the CISA KEV catalogue (no catalogVersion)")
    return doc


def read_epss(path: Path) -> str:
    """The EPSS CSV text, inflated with a size bound; BadInputError unless `cve,epss,…`."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(raw, MAX_INFLATED_BYTES + 1)
        except zlib.error as err:
            raise BadInputError(str(path), f"corrupt gzip ({err})") from None
        if len(data) > MAX_INFLATED_BYTES:
            raise BadInputError(str(path), "inflates past the size bound (bomb?)")
        if not inflater.eof:
            raise BadInputError(str(path), "corrupt gzip (truncated)")
        raw = data
    text = raw.decode("utf-8", errors="replace")
    first = next((ln for ln in text.splitlines() if not ln.startswith("#")), "")
    if not first.replace(" ", "").lower().startswith("cve,epss"):
        raise BadInputError(str(path), "not an EPSS CSV (no cve,epss header)")
    return text


def _when(flag: Any, since: Any) -> Any:
    """endoflife.date v1 gives `isX` and `xFrom`; the front matter keeps the date, else the flag."""
    return since if since else flag


def _release(rel: dict[str, Any]) -> dict[str, Any]:
    latest = rel.get("latest")
    latest = latest if isinstance(latest, dict) else {}
    out = {
        "releaseCycle": rel.get("name"),
        "releaseLabel": rel.get("label"),
        "releaseDate": rel.get("releaseDate"),
        "eol": _when(rel.get("isEol"), rel.get("eolFrom")),
        "eoas": _when(rel.get("isEoas"), rel.get("eoasFrom")),
        "eoes": _when(rel.get("isEoes"), rel.get("eoesFrom")),
        "lts": _when(rel.get("isLts"), rel.get("ltsFrom")),
        "latest": latest.get("name"),
        "latestReleaseDate": latest.get("date"),
        "codename": rel.get("codename"),
    }
    return {k: v for k, v in out.items() if v is not None}


def read_eol(path: Path) -> dict[str, Any]:
    """EOL data as `{product: {title, category, releases}}`, from API v1 or that shape itself."""
    doc = _json(path)
    if isinstance(doc, dict) and isinstance(doc.get("result"), list):
        products: dict[str, Any] = {}
        for item in doc["result"]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            releases = item.get("releases")
            releases = releases if isinstance(releases, list) else []
            products[item["name"]] = {
                "title": item.get("label"),
                "category": item.get("category"),
                "releases": [_release(r) for r in releases if isinstance(r, dict)],
            }
        return products
    if (
        isinstance(doc, dict)
        and doc
        and all(isinstance(v, dict) and "releases" in v for v in doc.values())
    ):
        return doc
    raise BadInputError(str(path), "not endoflife.date data (API v1 `result` list expected)")


def verify(kind: str, path: Path) -> None:
    """Raises BadInputError unless `path` is a complete, readable file of this kind."""
    if kind == "osv":
        verify_zip(path)
    elif kind == "kev":
        read_kev(path)
    elif kind == "epss":
        read_epss(path)
    elif kind == "eol":
        read_eol(path)
    else:
        raise ValueError(f"unknown advisory source kind {kind!r}")
