"""ECR's own scan results (basic scanning, or enhanced scanning by Amazon Inspector).

DescribeImageScanFindings is read for every image scanned; each result becomes a finding of
the same shape as ours, on the same image, with its `source` named. A vulnerability that our
own scan also found on the same package is not duplicated: our finding notes that ECR reports
it too. An image ECR never scanned simply has no such findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.lake.lake import Lake
from opencwpp.vuln.cloud.lambda_code import api_error
from opencwpp.vuln.findings import priority_evidence
from opencwpp.vuln.scoring import WorkloadContext, advisory_severity, parse_cvss, prioritise

BASIC = "ecr-basic-scan"
ENHANCED = "ecr-enhanced-scan (Amazon Inspector)"
_WORDS = {"INFORMATIONAL": Severity.INFORMATIONAL, "UNDEFINED": None, "UNTRIAGED": None}
_NOT_SCANNED = frozenset({"ScanNotFoundException"})


@dataclass
class NativeFinding:
    """One (vulnerability, package) ECR reports for an image."""

    vuln_id: str
    package: str
    version: str
    source: str
    severity: str = ""
    cvss: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    ecosystem: str = ""
    summary: str = ""
    url: str = ""
    path: str = ""


def _cvss_entry(version: str, vector: str) -> dict[str, Any] | None:
    kind = "CVSS_V4" if version.startswith("4") else "CVSS_V3"
    return parse_cvss({"type": "CVSS_V2" if version.startswith("2") else kind, "score": vector})


def parse_basic(item: Mapping[str, Any]) -> NativeFinding:
    """A basic-scanning finding (`name`, `severity`, `attributes` key/value pairs)."""
    attrs = {str(a.get("key")): str(a.get("value")) for a in item.get("attributes") or []}
    cvss = [
        c
        for v, key in (("3", "CVSS3_VECTOR"), ("2", "CVSS2_VECTOR"))
        if key in attrs and (c := _cvss_entry(v, attrs[key]))
    ]
    return NativeFinding(
        vuln_id=str(item.get("name") or ""),
        package=attrs.get("package_name", ""),
        version=attrs.get("package_version", ""),
        source=BASIC,
        severity=str(item.get("severity") or ""),
        cvss=cvss,
        summary=str(item.get("description") or ""),
        url=str(item.get("uri") or ""),
    )


def parse_enhanced(item: Mapping[str, Any]) -> list[NativeFinding]:
    """An Inspector finding: one NativeFinding per vulnerable package it names."""
    details = item.get("packageVulnerabilityDetails") or {}
    cvss = [
        c
        for entry in details.get("cvss") or []
        if (c := _cvss_entry(str(entry.get("version") or "3"), str(entry.get("scoringVector"))))
    ]
    out = []
    for pkg in details.get("vulnerablePackages") or []:
        version = "-".join(str(p) for p in (pkg.get("version"), pkg.get("release")) if p)
        out.append(
            NativeFinding(
                vuln_id=str(details.get("vulnerabilityId") or item.get("title") or ""),
                package=str(pkg.get("name") or ""),
                version=version,
                source=ENHANCED,
                severity=str(item.get("severity") or details.get("vendorSeverity") or ""),
                cvss=cvss,
                fixed=[str(pkg["fixedInVersion"])] if pkg.get("fixedInVersion") else [],
                ecosystem=str(pkg.get("packageManager") or ""),
                summary=str(item.get("title") or item.get("description") or ""),
                url=str(details.get("sourceUrl") or ""),
                path=str(pkg.get("filePath") or ""),
            )
        )
    return out


def fetch_native(
    client: Any, repository: str, registry_id: str, digest: str
) -> tuple[list[NativeFinding], str]:
    """ECR's findings for one image, and a one-line note (none when never scanned)."""
    found: list[NativeFinding] = []
    try:
        pages = client.get_paginator("describe_image_scan_findings").paginate(
            repositoryName=repository, registryId=registry_id, imageId={"imageDigest": digest}
        )
        status = ""
        for page in pages:
            status = str((page.get("imageScanStatus") or {}).get("status") or status)
            results = page.get("imageScanFindings") or {}
            found += [parse_basic(i) for i in results.get("findings") or []]
            found += [n for i in results.get("enhancedFindings") or [] for n in parse_enhanced(i)]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in _NOT_SCANNED:
            return [], "ECR has not scanned this image"
        return [], str(api_error("DescribeImageScanFindings", err))
    found = [n for n in found if n.vuln_id and n.package]
    sources = sorted({n.source for n in found})
    return found, f"ECR scan {status or 'status unknown'}: {len(found)} findings" + (
        f" ({', '.join(sources)})" if sources else ""
    )


def _known(lake: Lake, table: str, column: str, ids: Sequence[str]) -> list[dict[str, Any]]:
    if not ids or not lake.table_exists(table):
        return []
    marks = ", ".join("?" for _ in ids)
    return lake.query(f"SELECT * FROM {table} WHERE {column} IN ({marks})", list(ids))


def _ids(f: Finding) -> set[str]:
    vuln = f.evidence["vulnerability"]
    return {f.check_id, *vuln.get("aliases", []), *vuln.get("related", [])}


def _names(f: Finding) -> set[str]:
    pkg = f.evidence["package"]
    return {str(n).lower() for n in (pkg.get("name"), pkg.get("source_name")) if n}


def merge(
    lake: Lake,
    ours: list[Finding],
    natives: Iterable[NativeFinding],
    target: str,
    resource: ResourceRef,
    context: WorkloadContext,
) -> list[Finding]:
    """Our findings (noting ECR's agreement) plus a finding for each one ECR alone reports."""
    natives = list(natives)
    cves = sorted({n.vuln_id for n in natives if n.vuln_id.startswith("CVE-")})
    kev = {r["cve_id"] for r in _known(lake, "cwpp_kev", "cve_id", cves)}
    epss = {r["cve"]: float(r["epss"]) for r in _known(lake, "cwpp_epss", "cve", cves)}
    out = list(ours)
    extra: dict[str, Finding] = {}
    for n in natives:
        same = [
            i for i, f in enumerate(out) if n.vuln_id in _ids(f) and n.package.lower() in _names(f)
        ]
        for i in same:
            ev = dict(out[i].evidence)
            ev["also_reported_by"] = sorted({*ev.get("also_reported_by", []), n.source})
            out[i] = replace(out[i], evidence=ev)
        if not same:
            f = _finding(n, target, resource, context, n.vuln_id in kev, epss.get(n.vuln_id))
            extra.setdefault(f.id, f)
    return out + list(extra.values())


def _finding(
    n: NativeFinding,
    target: str,
    resource: ResourceRef,
    context: WorkloadContext,
    in_kev: bool,
    epss: float | None,
) -> Finding:
    sev, cvss, basis = advisory_severity(
        [{"type": c["type"], "score": c["vector"]} for c in n.cvss], {"severity": n.severity}, ""
    )
    if sev is None:
        word = n.severity.upper()
        sev = _WORDS.get(word) or Severity.MEDIUM
        basis = f"{n.source} rating {word or 'missing'}"
    priority = prioritise(sev, in_kev, epss, n.fixed, context)
    eco = n.ecosystem or "ecr"
    evidence = {
        "target": target,
        "source": n.source,
        "package": {
            "name": n.package,
            "version": n.version,
            "versions": [n.version],
            "ecosystem": eco,
            "purl": "",
            "source_name": "",
            "paths": [n.path] if n.path else [],
            "layers": [],
        },
        "vulnerability": {
            "id": n.vuln_id,
            "aliases": [],
            "advisories": [],
            "related": [n.vuln_id] if n.vuln_id.startswith("CVE-") else [],
            "summary": n.summary,
            "severity": sev.value,
            "severity_basis": basis,
            "cvss": cvss,
            "kev": in_kev,
            "epss": epss,
            "url": n.url,
        },
        "fixed_versions": n.fixed,
        "matched_by": [n.source],
        "priority": priority_evidence(priority, context),
    }
    reasons = "; ".join(priority.reasons)
    return Finding(
        check_id=n.vuln_id,
        title=f"{n.vuln_id} in {n.package} {n.version} (reported by {n.source})",
        pillar=Pillar.VULNERABILITY,
        severity=sev,
        status=Status.FAIL,
        resource=replace(
            resource, uid=f"{target}#ecr:{eco}/{n.package}", name=f"{n.package} in {resource.name}"
        ),
        status_reason=f"{n.source}: {n.package} {n.version} is affected ({reasons})",
        evidence=evidence,
        remediation=(
            f"Upgrade {n.package} to {' or '.join(n.fixed)}."
            if n.fixed
            else "No fixed version reported by ECR."
        ),
    )
