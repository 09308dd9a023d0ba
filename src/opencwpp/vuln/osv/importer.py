"""Imports advisory data into the lake: OSV records, CISA KEV, EPSS scores, end-of-life dates.

Each import runs in one transaction; inside a caller's `lake.transaction()` it joins that one
(DuckDB's nested block is a no-op, PostgreSQL's a savepoint), which is how `vuln db update`
imports every source at once. OSV records replace the stored records of the same id;
KEV, EPSS and EOL imports replace their whole table. `cwpp_vuln_sources` keeps what was
imported from where, when, and how many inputs could not be read.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opencwpp.lake.lake import Lake
from opencwpp.vuln import naming
from opencwpp.vuln.bulk import insert_many
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.osv.common import ImportResult, now, record_source
from opencwpp.vuln.osv.feeds import import_eol, import_epss, import_kev
from opencwpp.vuln.osv.records import read_records
from opencwpp.vuln.tables import ADVISORIES, AFFECTED, ALIASES, DB_TABLES

_CHUNK = 500

MAX_FEED_BYTES = 1024**3


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def advisory_rows(
    record: dict[str, Any], source: str, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The advisory row, its affected rows and its alias rows of one OSV record."""
    rid = record["id"]
    advisory = {
        "id": rid,
        "modified": _timestamp(record.get("modified")),
        "published": _timestamp(record.get("published")),
        "withdrawn": _timestamp(record.get("withdrawn")),
        "summary": record.get("summary") or "",
        "details": record.get("details") or "",
        "severity": record.get("severity") or [],
        "aliases": _strings(record.get("aliases")),
        "related": _strings(record.get("related")),
        "database_specific": record.get("database_specific") or {},
        "schema_version": record.get("schema_version") or "",
        "source": source,
        "imported_at": now,
    }
    affected = []
    for idx, entry in enumerate(record.get("affected") or []):
        package = entry.get("package") if isinstance(entry, dict) else None
        if not isinstance(package, dict):
            continue
        ecosystem = naming.normalize_ecosystem(package["ecosystem"])
        affected.append(
            {
                "advisory_id": rid,
                "idx": idx,
                "ecosystem": ecosystem,
                "ecosystem_base": naming.base(ecosystem),
                "name": package["name"],
                "name_key": naming.name_key(ecosystem, package["name"]),
                "purl": package.get("purl") or "",
                "ranges": entry.get("ranges") or [],
                "versions": _strings(entry.get("versions")),
                "ecosystem_specific": entry.get("ecosystem_specific") or {},
                "database_specific": entry.get("database_specific") or {},
            }
        )
    aliases = {a: "related" for a in advisory["related"]}
    aliases.update({a: "alias" for a in advisory["aliases"]})
    alias_rows = [
        {"advisory_id": rid, "alias": a, "kind": k} for a, k in aliases.items() if a != rid
    ]
    return advisory, affected, alias_rows


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def import_osv(lake: Lake, path: Path) -> ImportResult:
    """Loads OSV records (directory, JSON file or OSV zip); same ids are replaced."""
    read = read_records(path)
    result = ImportResult(str(path), "osv", problems=list(read.problems))
    latest: dict[str, dict[str, Any]] = {}
    for record in read.records:  # the same id twice in one input: the newest wins
        seen = latest.get(record["id"])
        if seen is None or str(record["modified"]) >= str(seen["modified"]):
            latest[record["id"]] = record
    when = now()
    advisories, affected, aliases = [], [], []
    for record in latest.values():
        adv, aff, ali = advisory_rows(record, str(path), when)
        advisories.append(adv)
        affected.extend(aff)
        aliases.extend(ali)
    lake.ensure_tables(DB_TABLES)
    ids = sorted(latest)
    with lake.transaction():
        for chunk in _chunks(ids):
            marks = ", ".join("?" for _ in chunk)
            lake.execute(f"DELETE FROM cwpp_advisories WHERE id IN ({marks})", chunk)
            lake.execute(
                f"DELETE FROM cwpp_advisory_affected WHERE advisory_id IN ({marks})", chunk
            )
            lake.execute(f"DELETE FROM cwpp_advisory_aliases WHERE advisory_id IN ({marks})", chunk)
        insert_many(lake, ADVISORIES, advisories)
        insert_many(lake, AFFECTED, affected)
        insert_many(lake, ALIASES, aliases)
        result.records = len(advisories)
        record_source(lake, result, when)
    return result


def _gunzip(raw: bytes, source: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as handle:
            data = handle.read(MAX_FEED_BYTES + 1)
    except (OSError, EOFError) as err:
        raise BadInputError(source, f"corrupt gzip ({err})") from None
    if len(data) > MAX_FEED_BYTES:
        raise BadInputError(source, "decompresses past the size bound (bomb?)")
    return data


def detect_and_import(lake: Lake, path: Path) -> ImportResult:
    """Imports one input after recognising it by content (OSV, KEV, EPSS or EOL)."""
    if not path.exists():
        raise BadInputError(str(path), "no such file or directory")
    if path.is_dir() or path.suffix.lower() == ".zip":
        return import_osv(lake, path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # FIRST publishes EPSS as .csv.gz
        raw = _gunzip(raw, str(path))
    head = raw[:4096].lstrip()
    if head[:1] in (b"{", b"["):
        try:
            doc = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise BadInputError(str(path), f"not valid JSON ({err})") from None
        if isinstance(doc, dict) and "vulnerabilities" in doc and "catalogVersion" in doc:
            return import_kev(lake, path, doc)
        if (
            isinstance(doc, dict)
            and doc
            and all(isinstance(v, dict) and "releases" in v for v in doc.values())
        ):
            return import_eol(lake, path, doc)
        return import_osv(lake, path)
    text = raw.decode("utf-8", errors="replace")
    first = next((ln for ln in text.splitlines() if not ln.startswith("#")), "")
    if first.replace(" ", "").lower().startswith("cve,epss"):
        return import_epss(lake, path, text)
    raise BadInputError(str(path), "not an OSV record/zip, KEV JSON, EPSS CSV or EOL JSON")
