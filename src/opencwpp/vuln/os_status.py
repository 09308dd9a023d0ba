"""What a scan can say of the operating system itself, beside its packages' vulnerabilities.

- `os-no-advisory-source`: OS packages were found but no advisory source covers their
  distribution (CentOS Linux, an unknown or missing os-release). They match nothing, so the
  host would look clean: a FAIL says so instead of silence (not NOT_ASSESSED, which reports
  leave out and which a later scan could not resolve once the OS is upgraded). CentOS is not
  matched against Red Hat's advisories on purpose: RHEL's fixed versions (RHEL 7 ELS and later
  errata) were never released for CentOS, so "fixed in" would point at packages a CentOS host
  cannot install, and a fix CentOS did ship may carry a different release string.
- `os-end-of-life`: the release is past its end of life in the loaded end-of-life data
  (`cwpp_eol`, endoflife.date products): a FAIL, high when no security fixes come any more,
  medium while an extended support phase (`eoes`) lasts.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.lake.lake import Lake
from opencwpp.vuln import naming
from opencwpp.vuln.cloud.eol import eol_date
from opencwpp.vuln.extract.base import OS_KINDS
from opencwpp.vuln.extract.osrelease import RELEASED_ECOSYSTEMS, OsRelease
from opencwpp.vuln.extract.walk import Inventory

NO_SOURCE, END_OF_LIFE = "os-no-advisory-source", "os-end-of-life"
CHECKS = (NO_SOURCE, END_OF_LIFE)
# os-release ID -> endoflife.date product.
EOL_PRODUCTS = {
    "debian": "debian",
    "ubuntu": "ubuntu",
    "alpine": "alpine-linux",
    "rhel": "rhel",
    "almalinux": "almalinux",
    "rocky": "rocky-linux",
    "centos": "centos",
    "amzn": "amazon-linux",
}


def os_uid(target: str) -> str:
    """The finding resource of the target's operating system."""
    return f"{target}#os"


def _os_name(os: OsRelease | None) -> str:
    if os is None:
        return "an unidentified operating system"
    return os.pretty_name or f"{os.id} {os.version_id}".strip()


def _unmatched(inv: Inventory) -> list[str]:
    """OS packages whose ecosystem has no release (nothing can match them)."""
    return [
        p.name
        for p in inv.packages
        if p.ecosystem in OS_KINDS
        or (naming.base(p.ecosystem) in RELEASED_ECOSYSTEMS and ":" not in p.ecosystem)
    ]


def _no_source(inv: Inventory, target: str, ref: ResourceRef) -> Finding | None:
    unmatched = _unmatched(inv)
    if not unmatched:
        return None
    name = _os_name(inv.os)
    why = (
        "no /etc/os-release names the distribution"
        if inv.os is None
        else f"no advisory source covers {inv.os.id!r} (OSV has no ecosystem for it)"
    )
    return Finding(
        check_id=NO_SOURCE,
        title=f"{name}: OS packages not assessed, no advisory source",
        pillar=Pillar.VULNERABILITY,
        severity=Severity.MEDIUM,
        status=Status.FAIL,
        resource=ref,
        status_reason=f"{len(unmatched)} OS packages of {name} not matched: {why}",
        evidence={
            "target": target,
            "os": _os_evidence(inv.os),
            "unmatched_packages": len(unmatched),
            "examples": sorted(set(unmatched))[:10],
        },
        remediation="Move to a distribution with published advisories, or assess the OS "
        "packages with its vendor's tools.",
    )


def _os_evidence(os: OsRelease | None) -> dict[str, str] | None:
    if os is None:
        return None
    return {"id": os.id, "version_id": os.version_id, "pretty_name": os.pretty_name}


def _cycles(os: OsRelease) -> list[str]:
    """Candidate release cycles, most specific first: 22.04, then 3.20 of 3.20.1, then 9."""
    parts = os.version_id.split(".")
    out = [os.version_id, ".".join(parts[:2]), parts[0]]
    return [c for i, c in enumerate(out) if c and c not in out[:i]]


def _eol_row(lake: Lake, product: str, cycles: list[str]) -> dict[str, Any] | None:
    if not cycles or not lake.table_exists("cwpp_eol"):
        return None
    marks = ", ".join("?" for _ in cycles)
    rows = lake.query(
        f"SELECT cycle, eol, release FROM cwpp_eol WHERE product = ? AND cycle IN ({marks})",
        [product, *cycles],
    )
    by_cycle = {row["cycle"]: row for row in rows}
    return next((by_cycle[c] for c in cycles if c in by_cycle), None)


def _end_of_life(
    lake: Lake, inv: Inventory, target: str, ref: ResourceRef, today: date
) -> Finding | None:
    os = inv.os
    product = EOL_PRODUCTS.get(os.id) if os else None
    if os is None or product is None:
        return None
    row = _eol_row(lake, product, _cycles(os))
    if row is None:
        return None
    release = row["release"]
    release = json.loads(release) if isinstance(release, str) else release
    release = release if isinstance(release, dict) else {}
    when = eol_date(row["eol"])
    flagged = str(row["eol"]).lower() == "true"
    if not ((when is not None and when <= today) or (when is None and flagged)):
        return None
    name = _os_name(os)
    since = f" on {when.isoformat()}" if when else ""
    extended = eol_date(release.get("eoes"))
    # Extended support (Debian LTS, Ubuntu ESM, RHEL ELS) still ships some security fixes,
    # often only to subscribers: medium until it ends too.
    still = extended is not None and extended > today
    outlook = (
        f"only extended support until {extended.isoformat()}"
        if still and extended
        else "no more security fixes"
    )
    return Finding(
        check_id=END_OF_LIFE,
        title=f"{name} is past its end of life",
        pillar=Pillar.VULNERABILITY,
        severity=Severity.MEDIUM if still else Severity.HIGH,
        status=Status.FAIL,
        resource=ref,
        status_reason=f"{name} (cycle {row['cycle']}) reached end of life{since}: {outlook}",
        evidence={
            "target": target,
            "os": _os_evidence(os),
            "eol_product": product,
            "cycle": row["cycle"],
            "eol": when.isoformat() if when else str(row["eol"]),
            "extended_support": extended.isoformat() if extended else None,
        },
        remediation=f"Upgrade to a supported {product} release.",
    )


def os_findings(
    lake: Lake, inv: Inventory, target: str, target_type: str, today: date | None = None
) -> list[Finding]:
    """The OS findings of a scanned target (see the module docstring); [] when all is well."""
    ref = ResourceRef(uid=os_uid(target), type=target_type, name=f"{_os_name(inv.os)} in {target}")
    today = today or datetime.now(UTC).date()
    found = [_no_source(inv, target, ref), _end_of_life(lake, inv, target, ref, today)]
    return [f for f in found if f is not None]
