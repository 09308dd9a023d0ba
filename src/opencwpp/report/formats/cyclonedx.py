"""CycloneDX 1.6 JSON: the vulnerability findings as `components` plus `vulnerabilities`.

The components are the affected packages, written by the SBOM writer of `opencwpp.vuln.sbom`
(the same one `cwpp vuln sbom` uses). Each vulnerability lists the components it `affects` by
bom-ref, its CVSS `ratings`, the advisory links, KEV / EPSS / priority as properties, and an
`analysis` that says what opencwpp knows: failing = `in_triage` (matched by version, not yet
judged), muted = `in_triage` with `will_not_fix` and the owner's reason, resolved = `resolved`.
A report without vulnerability findings is an empty but valid BOM that says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from opencwpp.report.formats import Format
from opencwpp.report.formats._shared import tool_version
from opencwpp.report.formats._vulns import (
    AFFECTED,
    MUTED,
    NO_VULNERABILITIES,
    RESOLVED,
    Cvss,
    VulnFinding,
    advisory_url,
    document_uuid,
    inventory,
    source_name,
    vulnerability_findings,
)
from opencwpp.report.model import ReportData, iso_utc
from opencwpp.vuln.sbom.writer import cyclonedx
from opencwpp.vuln.scoring import severity_of_score

_STATE = {AFFECTED: "in_triage", MUTED: "in_triage", RESOLVED: "resolved"}
_SEVERITY = {"informational": "info"}


def _method(cvss: Cvss) -> str:
    if cvss.kind == "CVSS_V4":
        return "CVSSv4"
    if cvss.kind == "CVSS_V3":
        return "CVSSv31" if cvss.vector.startswith("CVSS:3.1") else "CVSSv3"
    return "CVSSv2" if cvss.kind == "CVSS_V2" else "other"


def _ratings(items: list[VulnFinding]) -> list[dict[str, Any]]:
    head = items[0]
    scored = {c.vector: c for v in items for c in v.cvss}
    if not scored:
        sev = head.finding.severity.value
        basis = head.finding.evidence.get("vulnerability", {}).get("severity_basis")
        rating = {"severity": _SEVERITY.get(sev, sev), "method": "other"}
        return [rating | ({"justification": basis} if isinstance(basis, str) and basis else {})]
    out = []
    for cvss in scored.values():
        sev = severity_of_score(cvss.score).value
        out.append(
            {
                "source": {"name": source_name(head.vuln_id), "url": advisory_url(head.vuln_id)},
                "score": cvss.score,
                "severity": _SEVERITY.get(sev, sev),
                "method": _method(cvss),
                "vector": cvss.vector,
            }
        )
    return out


def _properties(items: list[VulnFinding]) -> list[dict[str, str]]:
    head = items[0]
    props = [{"name": "opencwpp:kev", "value": str(any(v.kev for v in items)).lower()}]
    scores = [v.epss for v in items if v.epss is not None]
    if scores:
        props.append({"name": "opencwpp:epss", "value": f"{max(scores):.5f}"})
    if head.priority:
        props.append({"name": "opencwpp:priority", "value": head.priority})
    props += [{"name": "opencwpp:finding_id", "value": v.finding.id} for v in items]
    return props


def _analysis(items: list[VulnFinding]) -> dict[str, Any]:
    state = items[0].state
    analysis: dict[str, Any] = {"state": _STATE[state]}
    if state == MUTED:
        analysis["response"] = ["will_not_fix"]
    elif state == AFFECTED:
        analysis["response"] = ["update"] if any(v.fixed for v in items) else ["can_not_fix"]
    details = dict.fromkeys(v.finding.status_reason for v in items if v.finding.status_reason)
    if details:
        analysis["detail"] = "\n".join(details)
    stamps = [v.finding.last_seen for v in items if v.finding.last_seen is not None]
    if stamps:
        analysis["lastUpdated"] = iso_utc(max(stamps))
    return analysis


def _vulnerability(items: list[VulnFinding], refs: dict[tuple[str, ...], str]) -> dict[str, Any]:
    head = items[0]
    entry: dict[str, Any] = {
        "bom-ref": f"vuln:{head.vuln_id}:{head.state}",
        "id": head.vuln_id,
        "source": {"name": source_name(head.vuln_id), "url": advisory_url(head.vuln_id)},
    }
    aliases = dict.fromkeys(a for v in items for a in v.aliases if a != head.vuln_id)
    if aliases:
        entry["references"] = [
            {"id": a, "source": {"name": source_name(a), "url": advisory_url(a)}} for a in aliases
        ]
    entry["ratings"] = _ratings(items)
    if head.summary:
        entry["description"] = head.summary
    fixes = dict.fromkeys(v.finding.remediation for v in items if v.finding.remediation)
    if fixes:
        entry["recommendation"] = " ".join(fixes)
    entry["advisories"] = [{"url": advisory_url(i)} for i in [head.vuln_id, *aliases]]
    entry["analysis"] = _analysis(items)
    affects: dict[str, set[str]] = {}
    for v in items:
        ref = refs[(v.package.ecosystem, v.package.name, v.package.version, v.package.path)]
        affects.setdefault(ref, set()).add(v.package.version)
    entry["affects"] = [
        {"ref": ref, "versions": [{"version": ver, "status": "affected"} for ver in sorted(vers)]}
        for ref, vers in affects.items()
    ]
    entry["properties"] = _properties(items)
    return entry


def _component_refs(components: Iterable[dict[str, Any]]) -> dict[tuple[str, ...], str]:
    """(ecosystem, name, version, path) → bom-ref, read back from the writer's components."""
    out: dict[tuple[str, ...], str] = {}
    for comp in components:
        props = {p["name"]: p["value"] for p in comp.get("properties", [])}
        key = (
            props.get("opencwpp:ecosystem", ""),
            comp["name"],
            comp["version"],
            props.get("opencwpp:path", ""),
        )
        out[key] = comp["bom-ref"]
    return out


def _add_targets(components: list[dict[str, Any]], vulns: list[VulnFinding]) -> None:
    """Names the scanned targets (image, function, host) each component was found in."""
    targets: dict[tuple[str, ...], dict[str, None]] = {}
    for v in vulns:
        key = (v.package.ecosystem, v.package.name, v.package.version, v.package.path)
        targets.setdefault(key, {})[v.target] = None
    refs = _component_refs(components)
    by_ref = {ref: list(targets.get(key, {})) for key, ref in refs.items()}
    for comp in components:
        comp["properties"] += [
            {"name": "opencwpp:target", "value": t} for t in by_ref.get(comp["bom-ref"], [])
        ]


def document(data: ReportData) -> dict[str, Any]:
    """The BOM as a JSON-ready dict."""
    vulns = vulnerability_findings(data)
    bom = cyclonedx(inventory(vulns, f"opencwpp vulnerability findings ({data.lake_url})"))
    bom["serialNumber"] = f"urn:uuid:{document_uuid(data, vulns)}"
    bom["metadata"]["timestamp"] = iso_utc(data.generated_at)
    bom["metadata"]["tools"]["components"][0]["version"] = tool_version()
    if not vulns:
        bom["metadata"]["properties"] = [{"name": "opencwpp:note", "value": NO_VULNERABILITIES}]
        bom["vulnerabilities"] = []
        return bom
    _add_targets(bom["components"], vulns)
    refs = _component_refs(bom["components"])
    groups: dict[tuple[str, str], list[VulnFinding]] = {}
    for v in vulns:
        groups.setdefault((v.vuln_id, v.state), []).append(v)
    bom["vulnerabilities"] = [_vulnerability(items, refs) for items in groups.values()]
    return bom


def render(data: ReportData) -> str:
    """Renders the CycloneDX 1.6 JSON document (two-space indent, trailing newline)."""
    return json.dumps(document(data), indent=2, ensure_ascii=False) + "\n"


FORMAT = Format(
    name="cyclonedx",
    extension="cdx.json",
    media_type="application/vnd.cyclonedx+json",
    render=render,
)
