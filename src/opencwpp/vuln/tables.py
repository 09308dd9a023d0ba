"""The vulnerability pillar's lake tables: advisories and friends, and package inventories."""

from __future__ import annotations

from collections.abc import Sequence

from opencwpp.lake.schema import FLOAT64, INT64, JSON, LIST_UTF8, TIMESTAMP, Column, Table


def _own(name: str, columns: Sequence[tuple[str, str] | str], key: Sequence[str]) -> Table:
    cols = tuple(Column(c) if isinstance(c, str) else Column(*c) for c in columns)
    return Table(name=name, columns=cols, primary_key=tuple(key), synced=False)


ADVISORIES = _own(
    "cwpp_advisories",
    [
        "id",
        ("modified", TIMESTAMP),
        ("published", TIMESTAMP),
        ("withdrawn", TIMESTAMP),
        "summary",
        "details",
        ("severity", JSON),
        ("aliases", LIST_UTF8),
        ("related", LIST_UTF8),
        ("database_specific", JSON),
        "schema_version",
        "source",
        ("imported_at", TIMESTAMP),
    ],
    ["id"],
)
AFFECTED = _own(
    "cwpp_advisory_affected",
    [
        "advisory_id",
        ("idx", INT64),
        "ecosystem",
        "ecosystem_base",
        "name",
        "name_key",
        "purl",
        ("ranges", JSON),
        ("versions", LIST_UTF8),
        ("ecosystem_specific", JSON),
        ("database_specific", JSON),
    ],
    ["advisory_id", "idx"],
)
ALIASES = _own("cwpp_advisory_aliases", ["advisory_id", "alias", "kind"], ["advisory_id", "alias"])
KEV = _own(
    "cwpp_kev",
    [
        "cve_id",
        "vendor_project",
        "product",
        "vulnerability_name",
        "date_added",
        "short_description",
        "required_action",
        "due_date",
        "known_ransomware_campaign_use",
        "notes",
        ("cwes", JSON),
    ],
    ["cve_id"],
)
EPSS = _own("cwpp_epss", ["cve", ("epss", FLOAT64), ("percentile", FLOAT64), "score_date"], ["cve"])
EOL = _own(
    "cwpp_eol",
    [
        "product",
        "cycle",
        "title",
        "category",
        "release_date",
        "eol",
        "latest",
        "lts",
        "codename",
        ("release", JSON),
    ],
    ["product", "cycle"],
)
SOURCES = _own(
    "cwpp_vuln_sources",
    ["source", "kind", ("records", INT64), ("problems", INT64), ("imported_at", TIMESTAMP)],
    ["source"],
)
PACKAGES = _own(
    "cwpp_packages",
    [
        "resource_uid",
        "ecosystem",
        "name",
        "version",
        "purl",
        "source_name",
        "source_version",
        "path",
        "layer",
        ("scanned_at", TIMESTAMP),
    ],
    [],
)
DB_TABLES = (ADVISORIES, AFFECTED, ALIASES, KEV, EPSS, EOL, SOURCES)
