"""SPDX 2.3 JSON: the packages vulnerability findings affect, each vulnerability a SECURITY ref.

The packages are written by the SBOM writer of `opencwpp.vuln.sbom` (as `cwpp vuln sbom` does),
with their purl as a PACKAGE-MANAGER reference. Each vulnerability affecting a package becomes an
external reference of category SECURITY and type `advisory` whose locator is the advisory's page
(NVD, GitHub or OSV) and whose comment carries severity, CVSS, KEV, EPSS, the fixed versions and
what opencwpp knows of it (failing, muted, resolved). A report without vulnerability findings is an
empty but valid document that says so in its comment.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from opencwpp.report.formats import Format
from opencwpp.report.formats._shared import tool_version
from opencwpp.report.formats._vulns import (
    MUTED,
    NO_VULNERABILITIES,
    RESOLVED,
    VulnFinding,
    advisory_url,
    document_uuid,
    inventory,
    vulnerability_findings,
)
from opencwpp.report.model import ReportData
from opencwpp.vuln.extract.base import Package
from opencwpp.vuln.sbom.writer import spdx

_FOUND_AT = "found at "  # how the writer names a package's location in `sourceInfo`


def _key(name: str, version: str, path: str) -> tuple[str, str, str]:
    return (name, version, path)


def _package_key(pkg: Package) -> tuple[str, str, str]:
    return _key(pkg.name, pkg.version, pkg.path)


def _entry_key(entry: dict[str, Any]) -> tuple[str, str, str]:
    source = str(entry.get("sourceInfo", ""))
    path = source[len(_FOUND_AT) :] if source.startswith(_FOUND_AT) else ""
    return _key(str(entry["name"]), str(entry.get("versionInfo", "")), path)


def _comment(v: VulnFinding) -> str:
    parts = [f"{v.vuln_id}: {v.finding.severity.value}"]
    if v.aliases:
        parts[0] += f" (also {', '.join(v.aliases)})"
    parts += [f"{c.kind.replace('_', ' ')} {c.score:g} {c.vector}" for c in v.cvss]
    if v.kev:
        parts.append("in CISA KEV")
    if v.epss is not None:
        parts.append(f"EPSS {v.epss:.5f}")
    parts.append(f"fixed in {', '.join(v.fixed)}" if v.fixed else "no fixed version")
    if v.state == MUTED:
        parts.append(f"muted: {v.finding.status_reason}")
    elif v.state == RESOLVED:
        parts.append("resolved")
    if v.target:
        parts.append(f"in {v.target}")
    return "; ".join(parts)


def _security_refs(vulns: list[VulnFinding]) -> list[dict[str, str]]:
    refs: dict[tuple[str, str], dict[str, str]] = {}
    for v in vulns:
        for vuln_id in (v.vuln_id, *v.aliases):
            refs.setdefault(
                (vuln_id, v.target),
                {
                    "referenceCategory": "SECURITY",
                    "referenceType": "advisory",
                    "referenceLocator": advisory_url(vuln_id),
                    "comment": _comment(v),
                },
            )
    return list(refs.values())


def document(data: ReportData) -> dict[str, Any]:
    """The SPDX document as a JSON-ready dict."""
    vulns = vulnerability_findings(data)
    doc = spdx(inventory(vulns, f"opencwpp vulnerability findings ({data.lake_url})"))
    doc["name"] = "opencwpp vulnerability findings"
    doc["documentNamespace"] = f"https://opencwpp.invalid/spdx/{document_uuid(data, vulns)}"
    # SPDX wants whole seconds: `YYYY-MM-DDThh:mm:ssZ`.
    created = data.generated_at.astimezone(UTC) if data.generated_at.tzinfo else data.generated_at
    doc["creationInfo"]["created"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    doc["creationInfo"]["creators"] = [f"Tool: opencwpp-{tool_version()}"]
    if not vulns:
        doc["comment"] = NO_VULNERABILITIES
        # An SPDX document describes something: here, the assessed lake, with no package in it.
        doc["packages"] = [
            {
                "SPDXID": "SPDXRef-Assessed-Lake",
                "name": f"assessed lake {data.lake_url}",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "comment": NO_VULNERABILITIES,
            }
        ]
        doc["relationships"] = [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": "SPDXRef-Assessed-Lake",
            }
        ]
        return doc
    doc["comment"] = f"{len(vulns)} vulnerability findings from {data.lake_url}"
    by_package: dict[tuple[str, str, str], list[VulnFinding]] = {}
    for v in vulns:
        by_package.setdefault(_package_key(v.package), []).append(v)
    for entry in doc["packages"]:
        found = by_package[_entry_key(entry)]
        entry.setdefault("externalRefs", []).extend(_security_refs(found))
    return doc


def render(data: ReportData) -> str:
    """Renders the SPDX 2.3 JSON document (two-space indent, trailing newline)."""
    return json.dumps(document(data), indent=2, ensure_ascii=False) + "\n"


FORMAT = Format(
    name="spdx", extension="spdx.json", media_type="application/spdx+json", render=render
)
