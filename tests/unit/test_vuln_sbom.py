"""SBOM output: CycloneDX 1.6 and SPDX 2.3 structure, purls, and reading our own output back."""

from __future__ import annotations

import json
import re
from pathlib import Path

from opencwpp.vuln.inventory import inventory
from opencwpp.vuln.naming import name_key
from opencwpp.vuln.sbom.writer import cyclonedx, spdx
from tests.data.vuln import builders as b
from tests.unit.test_report_sbom_exports import cyclonedx_validator, spdx_validator

PURL = re.compile(r"^pkg:[a-z]+/.+@.+")


def test_cyclonedx_structure_and_round_trip(tmp_path: Path) -> None:
    inv = inventory(b.debian_rootfs(tmp_path / "root"))
    doc = cyclonedx(inv)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6" and doc["version"] == 1
    assert doc["serialNumber"].startswith("urn:uuid:")
    refs = [c["bom-ref"] for c in doc["components"]]
    assert len(refs) == len(set(refs)) == len(inv.packages)
    for comp in doc["components"]:
        assert comp["type"] == "library" and comp["name"] and comp["version"]
        assert PURL.match(comp["purl"]), comp
    cyclonedx_validator().validate(doc)
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(doc))
    # purls normalise names (PyPI: PEP 503), so compare the matching keys
    again = {
        (p.ecosystem, name_key(p.ecosystem, p.name), p.version) for p in inventory(path).packages
    }
    assert again == {(p.ecosystem, name_key(p.ecosystem, p.name), p.version) for p in inv.packages}


def test_spdx_structure(tmp_path: Path) -> None:
    inv = inventory(b.debian_rootfs(tmp_path / "root"))
    doc = spdx(inv)
    for key in (
        "spdxVersion",
        "dataLicense",
        "SPDXID",
        "name",
        "documentNamespace",
        "creationInfo",
    ):
        assert doc[key], key
    assert doc["spdxVersion"] == "SPDX-2.3" and doc["dataLicense"] == "CC0-1.0"
    ids = {p["SPDXID"] for p in doc["packages"]}
    assert len(ids) == len(inv.packages)
    assert all(re.match(r"^SPDXRef-[A-Za-z0-9.-]+$", i) for i in ids)
    for pkg in doc["packages"]:
        assert pkg["downloadLocation"] == "NOASSERTION" and pkg["versionInfo"]
        assert PURL.match(pkg["externalRefs"][0]["referenceLocator"])
    assert {r["relatedSpdxElement"] for r in doc["relationships"]} == ids
    spdx_validator().validate(doc)  # the SPDX project's own parser and validator
    path = tmp_path / "spdx.json"
    path.write_text(json.dumps(doc))
    assert len(inventory(path).packages) == len(inv.packages)
