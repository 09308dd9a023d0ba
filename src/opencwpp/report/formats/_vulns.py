"""Vulnerability findings as the SBOM exports (CycloneDX, SPDX) need them.

A vulnerability finding is one the matcher made (`opencwpp.vuln.findings`): pillar vulnerability
with `package` and `vulnerability` evidence. Posture checks of the vulnerability pillar (say, ECR
scan on push) have no package and are left out. Evidence comes from the lake and, through package
names and advisory text, from the scanned images: every field is read defensively and typed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import NAMESPACE_URL, UUID, uuid5

from opencwpp.core.models import Finding, Pillar, Status
from opencwpp.report.model import ReportData, iso_utc, sort_findings
from opencwpp.vuln.extract.base import Package
from opencwpp.vuln.extract.walk import Inventory

AFFECTED, MUTED, RESOLVED = "affected", "muted", "resolved"
INVENTORY_KIND = "report"
NO_VULNERABILITIES = "no finding in this report is a vulnerability (run `cwpp vuln scan` first)"


@dataclass(frozen=True, slots=True)
class Cvss:
    """One CVSS score of an advisory: its version, vector and base score."""

    kind: str  # CVSS_V2 | CVSS_V3 | CVSS_V4
    vector: str
    score: float


@dataclass(frozen=True, slots=True)
class VulnFinding:
    """A vulnerability finding with its evidence parsed: package, advisory, scores, state."""

    finding: Finding
    package: Package
    purl: str
    target: str
    vuln_id: str
    aliases: tuple[str, ...]
    summary: str
    cvss: tuple[Cvss, ...]
    kev: bool
    epss: float | None
    fixed: tuple[str, ...]
    priority: str
    state: str  # affected | muted | resolved


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v))


def _cvss(value: Any) -> tuple[Cvss, ...]:
    out: dict[str, Cvss] = {}
    for entry in value if isinstance(value, list) else []:
        if not isinstance(entry, Mapping):
            continue
        kind, vector, score = entry.get("type"), entry.get("vector"), entry.get("score")
        if isinstance(kind, str) and isinstance(vector, str) and isinstance(score, int | float):
            out.setdefault(vector, Cvss(kind, vector, float(score)))
    return tuple(out.values())


def _state(finding: Finding, lifecycle: str) -> str | None:
    if lifecycle == "RESOLVED":
        return RESOLVED
    if finding.status is Status.FAIL:
        return AFFECTED
    if finding.status is Status.MUTED:
        return MUTED
    return None  # PASS without a failing past, NOT_ASSESSED: nothing to report


def parse(finding: Finding, lifecycle: str = "") -> VulnFinding | None:
    """The finding as a vulnerability, or None when it is not one the matcher made."""
    evidence = finding.evidence
    pkg, vuln = evidence.get("package"), evidence.get("vulnerability")
    if finding.pillar is not Pillar.VULNERABILITY or not isinstance(pkg, Mapping):
        return None
    if not isinstance(vuln, Mapping) or not _text(pkg.get("name")) or not _text(vuln.get("id")):
        return None
    state = _state(finding, lifecycle)
    if state is None:
        return None
    paths, layers = _texts(pkg.get("paths")), _texts(pkg.get("layers"))
    package = Package(
        ecosystem=_text(pkg.get("ecosystem")),
        name=_text(pkg.get("name")),
        version=_text(pkg.get("version")),
        path=paths[0] if paths else "",
        source_name=_text(pkg.get("source_name")),
        layer=layers[0] if layers else "",
    )
    epss = vuln.get("epss")
    priority = evidence.get("priority")
    return VulnFinding(
        finding=finding,
        package=package,
        purl=_text(pkg.get("purl")),
        target=_text(evidence.get("target")) or finding.resource.uid,
        vuln_id=_text(vuln.get("id")),
        aliases=tuple(
            a
            for a in dict.fromkeys(_texts(vuln.get("aliases")) + _texts(vuln.get("related")))
            if a != _text(vuln.get("id"))
        ),
        summary=_text(vuln.get("summary")),
        cvss=_cvss(vuln.get("cvss")),
        kev=vuln.get("kev") is True,
        epss=float(epss) if isinstance(epss, int | float) else None,
        fixed=_texts(evidence.get("fixed_versions")),
        priority=_text(priority.get("level")) if isinstance(priority, Mapping) else "",
        state=state,
    )


def vulnerability_findings(data: ReportData) -> list[VulnFinding]:
    """The report's vulnerability findings (failing, muted or resolved), in report order."""
    out = []
    for finding in sort_findings(data.findings):
        parsed = parse(finding, data.lifecycle.get(finding.id, ""))
        if parsed is not None:
            out.append(parsed)
    return out


def inventory(vulns: list[VulnFinding], label: str) -> Inventory:
    """The affected packages as an inventory, for the SBOM writers of `opencwpp.vuln.sbom`."""
    return Inventory(target=label, kind=INVENTORY_KIND, packages=[v.package for v in vulns])


def document_uuid(data: ReportData, vulns: list[VulnFinding]) -> UUID:
    """A stable id for the document: the same findings at the same time give the same id."""
    key = "\x1f".join([iso_utc(data.generated_at) or "", *(v.finding.id for v in vulns)])
    return uuid5(NAMESPACE_URL, f"https://opencwpp.invalid/report/{key}")


def advisory_url(vuln_id: str) -> str:
    """Where an advisory can be read: NVD for CVEs, GitHub for GHSAs, OSV for the rest."""
    quoted = quote(vuln_id, safe="")
    if vuln_id.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{quoted}"
    if vuln_id.startswith("GHSA-"):
        return f"https://github.com/advisories/{quoted}"
    return f"https://osv.dev/vulnerability/{quoted}"


def source_name(vuln_id: str) -> str:
    """The database an advisory id belongs to, named as in `advisory_url`."""
    if vuln_id.startswith("CVE-"):
        return "NVD"
    if vuln_id.startswith("GHSA-"):
        return "GitHub Advisories"
    return "OSV"


SBOM_FORMATS = ("cyclonedx", "spdx")


def empty_warning(format_name: str, data: ReportData) -> str | None:
    """The one-line warning for an SBOM export that carries no vulnerability (still valid)."""
    if format_name not in SBOM_FORMATS or vulnerability_findings(data):
        return None
    return f"{format_name}: {NO_VULNERABILITIES}; wrote an empty but valid document"
