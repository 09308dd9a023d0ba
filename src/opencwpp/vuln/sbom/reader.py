"""Reading CycloneDX (1.5/1.6) and SPDX (2.3) JSON SBOMs into packages, by their purls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opencwpp.vuln import naming
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.base import Package
from opencwpp.vuln.extract.osrelease import OsRelease


def sniff(path: Path) -> str | None:
    """`cyclonedx`, `spdx` or None, from the head of a JSON file."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    with path.open("rb") as handle:
        head = handle.read(8192)
    if b'"bomFormat"' in head and b"CycloneDX" in head:
        return "cyclonedx"
    if b'"spdxVersion"' in head:
        return "spdx"
    return None


def _from_purl(text: str, where: str, problems: list[str]) -> Package | None:
    parsed = naming.from_purl(text)
    if parsed is None:
        problems.append(f"{where}: unsupported package URL {text!r}, skipped")
        return None
    ecosystem, name, version = parsed
    if not version:
        problems.append(f"{where}: package URL without a version {text!r}, skipped")
        return None
    return Package(ecosystem, name, version, where)


def _cyclonedx(doc: dict[str, Any], source: str, problems: list[str]) -> list[Package]:
    if doc.get("bomFormat") != "CycloneDX" or not isinstance(doc.get("specVersion"), str):
        raise BadInputError(source, "not a CycloneDX BOM (bomFormat/specVersion missing)")
    out: list[Package] = []
    stack = list(doc.get("components") or [])
    while stack:
        comp = stack.pop(0)
        if not isinstance(comp, dict):
            raise BadInputError(source, "a component is not an object")
        stack.extend(comp.get("components") or [])
        if isinstance(comp.get("purl"), str):
            pkg = _from_purl(comp["purl"], f"{source}#{comp.get('bom-ref', '')}", problems)
            if pkg:
                out.append(pkg.at(source))
    return out


def _spdx(doc: dict[str, Any], source: str, problems: list[str]) -> list[Package]:
    if not str(doc.get("spdxVersion", "")).startswith("SPDX-2"):
        raise BadInputError(source, f"unsupported spdxVersion {doc.get('spdxVersion')!r}")
    out: list[Package] = []
    for pkg in doc.get("packages") or []:
        if not isinstance(pkg, dict):
            raise BadInputError(source, "a package is not an object")
        for ref in pkg.get("externalRefs") or []:
            if isinstance(ref, dict) and ref.get("referenceType") == "purl":
                found = _from_purl(str(ref.get("referenceLocator", "")), source, problems)
                if found:
                    out.append(found.at(source))
                break
    return out


def read_sbom(path: Path, problems: list[str]) -> tuple[list[Package], OsRelease | None]:
    """The packages of an SBOM file; BadInputError when it is malformed."""
    source = str(path)
    try:
        doc = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadInputError(source, f"malformed SBOM: not valid JSON ({err})") from None
    except RecursionError:
        raise BadInputError(source, "malformed SBOM: JSON nested too deeply to read") from None
    if not isinstance(doc, dict):
        raise BadInputError(source, "malformed SBOM: not a JSON object")
    if "bomFormat" in doc:
        return _cyclonedx(doc, source, problems), None
    if "spdxVersion" in doc:
        return _spdx(doc, source, problems), None
    raise BadInputError(source, "malformed SBOM: neither CycloneDX nor SPDX JSON")
