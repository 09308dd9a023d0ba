"""Findings from matches.

One per (target, package, vulnerability), aliases merged, with CVSS,
KEV, EPSS, fixed versions and a priority with its reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.lake.lake import Lake
from opencwpp.vuln.extract.base import Package
from opencwpp.vuln.match import AdvisoryIndex, Hit, alias_groups, canonical_id
from opencwpp.vuln.scoring import (
    NO_CONTEXT,
    Priority,
    WorkloadContext,
    advisory_severity,
    prioritise,
)

DEFAULT_SEVERITY = Severity.MEDIUM
_CHUNK = 500


def _lookup(lake: Lake, table: str, column: str, ids: Sequence[str]) -> list[dict[str, Any]]:
    if not ids or not lake.table_exists(table):
        return []
    rows: list[dict[str, Any]] = []
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i : i + _CHUNK])
        marks = ", ".join("?" for _ in chunk)
        rows.extend(lake.query(f"SELECT * FROM {table} WHERE {column} IN ({marks})", chunk))
    return rows


def priority_evidence(priority: Priority, context: WorkloadContext) -> dict[str, Any]:
    """The priority as evidence: level, reasons, score, and the workload facts behind them."""
    out: dict[str, Any] = {
        "level": priority.level.value,
        "reasons": list(priority.reasons),
        "score": priority.score,
    }
    if context:
        out["workload"] = {
            "internet_exposed": list(context.exposure),
            "admin_roles": list(context.admin_roles),
            "escalating_roles": list(context.escalating_roles),
        }
    return out


def package_uid(target: str, pkg: Package) -> str:
    """The finding's resource: the package (ecosystem/name) inside the scanned target."""
    return f"{target}#{pkg.ecosystem}/{pkg.name}"


def build_findings(
    lake: Lake,
    index: AdvisoryIndex,
    target: str,
    target_type: str,
    hits: Sequence[Hit],
    context: WorkloadContext = NO_CONTEXT,
) -> list[Finding]:
    """Groups hits per package and vulnerability and turns each group into a FAIL finding.

    `context` is what the lake knows of the workload (exposure, role): it ranks the priority.
    """
    index.load_details(h.advisory_id for h in hits)
    by_package: dict[str, list[Hit]] = {}
    for hit in hits:
        by_package.setdefault(package_uid(target, hit.package), []).append(hit)
    cves = sorted(
        {
            a
            for d in index.details.values()
            for a in [d["id"], *d["aliases"], *d["related"]]
            if a.startswith("CVE-")
        }
    )
    kev = {r["cve_id"] for r in _lookup(lake, "cwpp_kev", "cve_id", cves)}
    epss = {r["cve"]: float(r["epss"]) for r in _lookup(lake, "cwpp_epss", "cve", cves)}
    findings = []
    for uid, pkg_hits in sorted(by_package.items()):
        for group in alias_groups((h.advisory_id for h in pkg_hits), index.details):
            group_hits = [h for h in pkg_hits if h.advisory_id in group]
            findings.append(
                _finding(uid, target, target_type, group, group_hits, index, kev, epss, context)
            )
    return findings


def _finding(
    uid: str,
    target: str,
    target_type: str,
    group: list[str],
    hits: list[Hit],
    index: AdvisoryIndex,
    kev: set[str],
    epss: dict[str, float],
    context: WorkloadContext,
) -> Finding:
    details = [index.details.get(a, {"id": a, "aliases": [], "related": []}) for a in group]
    all_ids = sorted({i for d in details for i in [d["id"], *d["aliases"]]})
    vuln_id = canonical_id(all_ids)
    cve_ids = sorted(
        {i for d in details for i in [*all_ids, *d["related"]] if i.startswith("CVE-")}
    )
    severity, cvss, basis = None, [], ""
    for d in details:
        sev, scores, why = advisory_severity(
            d.get("severity") or [], d.get("database_specific") or {}, d.get("summary") or ""
        )
        cvss.extend(scores)
        if sev is not None and (severity is None or sev.rank > severity.rank):
            severity, basis = sev, why
    if severity is None:
        severity, basis = DEFAULT_SEVERITY, "no CVSS or rating published: medium assumed"
    in_kev = any(c in kev for c in cve_ids)
    epss_scores = [epss[c] for c in cve_ids if c in epss]
    top_epss = max(epss_scores) if epss_scores else None
    fixed = sorted({f for h in hits for f in h.match.fixed})
    priority = prioritise(severity, in_kev, top_epss, fixed, context)
    pkg = hits[0].package
    summary = next((d.get("summary") for d in details if d.get("summary")), "")
    evidence = {
        "target": target,
        "package": {
            "name": pkg.name,
            "version": pkg.version,
            "versions": sorted({h.package.version for h in hits}),
            "ecosystem": pkg.ecosystem,
            "purl": pkg.purl,
            "source_name": pkg.source_name,
            "paths": sorted({h.package.path for h in hits}),
            "layers": sorted({h.package.layer for h in hits if h.package.layer}),
        },
        "vulnerability": {
            "id": vuln_id,
            "aliases": [i for i in all_ids if i != vuln_id],
            "advisories": group,
            "related": cve_ids,
            "summary": summary,
            "severity": severity.value,
            "severity_basis": basis,
            "cvss": cvss,
            "kev": in_kev,
            "epss": top_epss,
        },
        "fixed_versions": fixed,
        "matched_by": sorted(
            {"range" for h in hits if h.match.by_range}
            | {"versions" for h in hits if h.match.by_list}
        ),
        "priority": priority_evidence(priority, context),
    }
    remediation = (
        f"Upgrade {pkg.name} to {' or '.join(fixed)}." if fixed else "No fixed version published."
    )
    return Finding(
        check_id=vuln_id,
        title=f"{vuln_id} in {pkg.name} {pkg.version}" + (f": {summary}" if summary else ""),
        pillar=Pillar.VULNERABILITY,
        severity=severity,
        status=Status.FAIL,
        resource=ResourceRef(uid=uid, type=target_type, name=f"{pkg.name} in {target}"),
        status_reason=f"{pkg.name} {pkg.version} is affected ({'; '.join(priority.reasons)})",
        evidence=evidence,
        remediation=remediation,
    )
