"""Packages x advisories.

Candidates by (ecosystem, name) from the lake, OSV range evaluation,
then aliases merged so that each vulnerability is reported once per package.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opencwpp.lake.lake import Lake
from opencwpp.vuln import naming
from opencwpp.vuln.extract.base import Package
from opencwpp.vuln.osv.ranges import EntryMatch, match_entry

_CHUNK = 500
# Distributions whose OSV advisories name source packages (the binary is matched through it).
_BY_SOURCE = {"Debian", "Ubuntu", "Alpine"}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def match_key(pkg: Package) -> tuple[str, str, str]:
    """(ecosystem, name key, version) a package is matched by (source package for Debian…)."""
    eco = naming.normalize_ecosystem(pkg.ecosystem)
    if naming.base(eco) in _BY_SOURCE and pkg.source_name:
        return eco, pkg.source_name, pkg.source_version or pkg.version
    return eco, naming.name_key(eco, pkg.name), pkg.version


@dataclass(frozen=True, slots=True)
class Candidate:
    """One affected entry of one advisory."""

    advisory_id: str
    entry: dict[str, Any]


@dataclass
class Hit:
    """A package affected by one advisory."""

    package: Package
    advisory_id: str
    match: EntryMatch


@dataclass
class AdvisoryIndex:
    """Affected entries by (ecosystem, name key), loaded from the lake on demand and kept."""

    lake: Lake
    entries: dict[tuple[str, str], list[Candidate]] = field(default_factory=dict)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)

    def load(self, keys: Iterable[tuple[str, str]]) -> None:
        """Loads the entries of the keys not loaded yet (withdrawn advisories left out)."""
        missing = sorted({k for k in keys if k not in self.entries})
        for key in missing:
            self.entries[key] = []
        if not missing or not self.lake.table_exists("cwpp_advisory_affected"):
            return
        names = sorted({name for _, name in missing})
        wanted = set(missing)
        for i in range(0, len(names), _CHUNK):
            chunk = names[i : i + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows = self.lake.query(
                "SELECT f.advisory_id, f.ecosystem, f.name_key, f.ranges, f.versions "
                "FROM cwpp_advisory_affected f JOIN cwpp_advisories a ON a.id = f.advisory_id "
                f"WHERE a.withdrawn IS NULL AND f.name_key IN ({marks})",
                chunk,
            )
            for row in rows:
                key = (row["ecosystem"], row["name_key"])
                if key in wanted:
                    entry = {"ranges": _json(row["ranges"]), "versions": row["versions"] or []}
                    self.entries[key].append(Candidate(row["advisory_id"], entry))

    def load_details(self, ids: Iterable[str]) -> None:
        """Loads summary, severity, aliases … of the advisories not loaded yet."""
        missing = sorted(set(ids) - set(self.details))
        for i in range(0, len(missing), _CHUNK):
            chunk = missing[i : i + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            for row in self.lake.query(
                "SELECT id, summary, severity, database_specific, aliases, related "
                f"FROM cwpp_advisories WHERE id IN ({marks})",
                chunk,
            ):
                row["severity"] = _json(row["severity"]) or []
                row["database_specific"] = _json(row["database_specific"]) or {}
                row["aliases"] = list(row["aliases"] or [])
                row["related"] = list(row["related"] or [])
                self.details[row["id"]] = row


def match_packages(index: AdvisoryIndex, packages: Sequence[Package]) -> list[Hit]:
    """Every (package, advisory) pair where the advisory affects the installed version."""
    keys = [match_key(p) for p in packages]
    index.load((eco, name) for eco, name, _ in keys)
    hits = []
    for pkg, (eco, name, version) in zip(packages, keys, strict=True):
        for cand in index.entries.get((eco, name), []):
            found = match_entry(version, cand.entry, eco)
            if found is not None:
                hits.append(Hit(pkg, cand.advisory_id, found))
    return hits


def alias_groups(ids: Iterable[str], details: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Advisory ids grouped when they share an id or alias (one vulnerability each)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    ids = sorted(set(ids))
    for adv in ids:
        for alias in details.get(adv, {}).get("aliases", []):
            parent[find(alias)] = find(adv)
    groups: dict[str, list[str]] = {}
    for adv in ids:
        groups.setdefault(find(adv), []).append(adv)
    return sorted(groups.values())


def canonical_id(ids: Iterable[str]) -> str:
    """The id a merged vulnerability is reported under: a CVE, else a GHSA, else the first."""
    ordered = sorted(set(ids))
    for prefix in ("CVE-", "GHSA-"):
        hit = [i for i in ordered if i.startswith(prefix)]
        if hit:
            return hit[0]
    return ordered[0]
