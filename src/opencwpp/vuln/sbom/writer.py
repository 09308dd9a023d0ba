"""Writing an inventory as CycloneDX 1.6 JSON or SPDX 2.3 JSON."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from opencwpp import __version__
from opencwpp.vuln.extract.base import Package
from opencwpp.vuln.extract.walk import Inventory

FORMATS = ("cyclonedx", "spdx")
_SPDX_ID = re.compile(r"[^A-Za-z0-9.-]")


def _unique(packages: list[Package]) -> list[Package]:
    seen: dict[tuple[str, str, str, str], Package] = {}
    for p in packages:
        seen.setdefault((p.ecosystem, p.name, p.version, p.path), p)
    return sorted(seen.values(), key=lambda p: (p.ecosystem, p.name, p.version, p.path))


def _ref(pkg: Package) -> str:
    key = "\x1f".join((pkg.ecosystem, pkg.name, pkg.version, pkg.path))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def cyclonedx(inv: Inventory) -> dict[str, Any]:
    """A CycloneDX 1.6 BOM: one library component per package, with purl and location."""
    components = []
    for pkg in _unique(inv.packages):
        comp: dict[str, Any] = {
            "type": "library",
            "bom-ref": f"pkg-{_ref(pkg)}",
            "name": pkg.name,
            "version": pkg.version,
            "properties": [{"name": "opencwpp:ecosystem", "value": pkg.ecosystem}],
        }
        if pkg.purl:
            comp["purl"] = pkg.purl
        if pkg.path:
            comp["properties"].append({"name": "opencwpp:path", "value": pkg.path})
        if pkg.layer:
            comp["properties"].append({"name": "opencwpp:layer", "value": pkg.layer})
        components.append(comp)
    metadata: dict[str, Any] = {
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tools": {
            "components": [{"type": "application", "name": "opencwpp", "version": __version__}]
        },
        "component": {
            "type": "container" if inv.kind == "image" else "application",
            "bom-ref": "target",
            "name": inv.target,
        },
    }
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": metadata,
        "components": components,
    }


def spdx(inv: Inventory) -> dict[str, Any]:
    """An SPDX 2.3 document: one package per package, its purl as an external reference."""
    packages = []
    relationships = []
    for pkg in _unique(inv.packages):
        spdx_id = "SPDXRef-Package-" + _SPDX_ID.sub("-", f"{pkg.name}-{_ref(pkg)}")
        entry: dict[str, Any] = {
            "SPDXID": spdx_id,
            "name": pkg.name,
            "versionInfo": pkg.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
        }
        if pkg.purl:
            entry["externalRefs"] = [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": pkg.purl,
                }
            ]
        if pkg.path:
            entry["sourceInfo"] = f"found at {pkg.path}"
        packages.append(entry)
        relationships.append(
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": spdx_id,
            }
        )
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"opencwpp inventory of {inv.target}",
        "documentNamespace": f"https://opencwpp.invalid/spdx/{uuid.uuid4()}",
        "creationInfo": {
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": [f"Tool: opencwpp-{__version__}"],
        },
        "packages": packages,
        "relationships": relationships,
    }
