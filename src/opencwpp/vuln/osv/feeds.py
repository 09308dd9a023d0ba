"""The feeds beside OSV: CISA KEV (JSON), EPSS scores (CSV), end-of-life dates (JSON).

Each import replaces its whole table in one transaction.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from opencwpp.lake.lake import Lake
from opencwpp.vuln.osv.common import ImportResult, replace_table
from opencwpp.vuln.tables import EOL, EPSS, KEV


def import_kev(lake: Lake, path: Path, doc: dict[str, Any]) -> ImportResult:
    """Loads the CISA KEV catalogue (its JSON feed); replaces the previous one."""
    result = ImportResult(str(path), "kev")
    rows: dict[str, dict[str, Any]] = {}
    for entry in doc.get("vulnerabilities") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("cveID"), str):
            result.problems.append(f"{path}: a KEV entry without a cveID, skipped")
            continue
        rows[entry["cveID"]] = {
            "cve_id": entry["cveID"],
            "vendor_project": entry.get("vendorProject"),
            "product": entry.get("product"),
            "vulnerability_name": entry.get("vulnerabilityName"),
            "date_added": entry.get("dateAdded"),
            "short_description": entry.get("shortDescription"),
            "required_action": entry.get("requiredAction"),
            "due_date": entry.get("dueDate"),
            "known_ransomware_campaign_use": entry.get("knownRansomwareCampaignUse"),
            "notes": entry.get("notes"),
            "cwes": entry.get("cwes") or [],
        }
    replace_table(lake, KEV, list(rows.values()), result)
    return result


def import_eol(lake: Lake, path: Path, doc: dict[str, Any]) -> ImportResult:
    """Loads end-of-life data ({product: {title, category, releases: […]}})."""
    result = ImportResult(str(path), "eol")
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for product, info in doc.items():
        if not isinstance(info, dict) or not isinstance(info.get("releases"), list):
            result.problems.append(f"{path}: product {product!r} has no releases list, skipped")
            continue
        for rel in info["releases"]:
            if not isinstance(rel, dict) or "releaseCycle" not in rel:
                result.problems.append(f"{path}: a {product} release without releaseCycle")
                continue
            cycle = str(rel["releaseCycle"])
            rows[(product, cycle)] = {
                "product": product,
                "cycle": cycle,
                "title": info.get("title"),
                "category": info.get("category"),
                "release_date": _text(rel.get("releaseDate")),
                "eol": _text(rel.get("eol")),
                "latest": _text(rel.get("latest")),
                "lts": _text(rel.get("lts")),
                "codename": _text(rel.get("codename")),
                "release": rel,
            }
    replace_table(lake, EOL, list(rows.values()), result)
    return result


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def import_epss(lake: Lake, path: Path, text: str) -> ImportResult:
    """Loads EPSS scores from FIRST's CSV (`#model_version…,score_date:…` then cve,epss,…)."""
    result = ImportResult(str(path), "epss")
    score_date = ""
    lines = text.splitlines()
    if lines and lines[0].startswith("#"):
        for part in lines[0].lstrip("#").split(","):
            key, _, value = part.partition(":")
            if key.strip() == "score_date":
                score_date = value.strip()
        lines = lines[1:]
    rows: dict[str, dict[str, Any]] = {}
    for lineno, rec in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        try:
            cve = (rec.get("cve") or "").strip()
            if not cve:
                raise ValueError("no cve")
            rows[cve] = {
                "cve": cve,
                "epss": float(rec.get("epss") or ""),
                "percentile": float(rec.get("percentile") or 0),
                "score_date": score_date,
            }
        except ValueError as err:
            result.problems.append(f"{path}:{lineno}: bad EPSS row ({err})")
    replace_table(lake, EPSS, list(rows.values()), result)
    return result
