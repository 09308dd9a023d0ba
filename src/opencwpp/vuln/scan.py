"""A vulnerability scan of one target: inventory -> lake -> matches -> findings (with history)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from opencwpp.core.models import Finding
from opencwpp.findings import FindingFilter, finish_run, load_findings, save_findings, start_run
from opencwpp.lake.lake import Lake
from opencwpp.vuln.bulk import insert_many
from opencwpp.vuln.extract.walk import Inventory
from opencwpp.vuln.findings import build_findings
from opencwpp.vuln.inventory import inventory
from opencwpp.vuln.match import AdvisoryIndex, match_packages
from opencwpp.vuln.os_status import CHECKS as OS_CHECKS
from opencwpp.vuln.os_status import os_findings
from opencwpp.vuln.tables import PACKAGES


@dataclass
class ScanResult:
    """What a scan found and what it could not read."""

    inventory: Inventory
    findings: list[Finding] = field(default_factory=list)  # the packages' vulnerabilities
    os_findings: list[Finding] = field(default_factory=list)  # no advisory source, end of life
    run_id: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def save_packages(lake: Lake, inv: Inventory) -> int:
    """Replaces the target's rows in `cwpp_packages` in one transaction."""
    lake.ensure_tables([PACKAGES])
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "resource_uid": inv.target,
            "ecosystem": p.ecosystem,
            "name": p.name,
            "version": p.version,
            "purl": p.purl,
            "source_name": p.source_name,
            "source_version": p.source_version,
            "path": p.path,
            "layer": p.layer,
            "scanned_at": now,
        }
        for p in inv.packages
    ]
    with lake.transaction():
        lake.execute("DELETE FROM cwpp_packages WHERE resource_uid = ?", [inv.target])
        insert_many(lake, PACKAGES, rows)
    return len(rows)


def _save(lake: Lake, run_id: str, target: str, findings: list[Finding]) -> dict[str, int]:
    # One scan judges one target: its vulnerabilities that are gone are resolved, other
    # targets' findings of the same vulnerabilities stay as they were. The OS checks always
    # ran: an upgraded OS resolves its end-of-life finding.
    prefix = f"{target}#"
    previous = {
        s.finding.check_id
        for s in load_findings(lake, FindingFilter(pillars=("vulnerability",), resource=prefix))
        if s.finding.resource.uid.startswith(prefix)
    }
    return save_findings(lake, run_id, findings, previous | set(OS_CHECKS), resource_prefix=prefix)


def scan(lake: Lake, path: Path, index: AdvisoryIndex | None = None) -> ScanResult:
    """Scans a target, stores its packages and findings; returns them with the problems met."""
    run_id = start_run(lake, "vuln-scan")
    inv = inventory(path)
    save_packages(lake, inv)
    index = index or AdvisoryIndex(lake)
    hits = match_packages(index, inv.packages)
    findings = build_findings(lake, index, inv.target, inv.kind, hits)
    about_os = os_findings(lake, inv, inv.target, inv.kind)
    counts = _save(lake, run_id, inv.target, findings + about_os)
    summary = {
        "target": inv.target,
        "packages": len(inv.packages),
        "findings": len(findings),
        "os_findings": [f.check_id for f in about_os],
        "unreadable": len(inv.problems),
        "encrypted": len(inv.encrypted),
    }
    finish_run(lake, run_id, "ok", summary)
    return ScanResult(inv, findings, about_os, run_id, counts)
