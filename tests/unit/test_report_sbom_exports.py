"""CycloneDX 1.6 and SPDX 2.3 exports of vulnerability findings, and the console format.

CycloneDX documents are validated against the official JSON schemas (as cyclonedx-python-lib ships
them), SPDX documents by the SPDX project's own parser and validator (spdx-tools).
"""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cyclonedx.schema._res
import jsonschema
import pytest
from referencing import Registry, Resource
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.report import ReportData
from opencwpp.report.formats import get_format
from opencwpp.report.formats._vulns import NO_VULNERABILITIES, empty_warning
from opencwpp.report.formats.cyclonedx import document as cdx_document
from opencwpp.report.formats.spdx import document as spdx_document

# The official CycloneDX schemas as the cyclonedx-python-lib package ships them (offline).
CDX_SCHEMAS = Path(cyclonedx.schema._res.__file__).parent
HOSTILE = "<img src=x onerror=alert(1)>"
T = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CVSS = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def _load(name: str) -> dict[str, Any]:
    return json.loads((CDX_SCHEMAS / name).read_text(encoding="utf-8"))


def cyclonedx_validator() -> jsonschema.Draft7Validator:
    """The CycloneDX 1.6 schema with the two schemas it references, all offline."""
    bom = _load("bom-1.6.SNAPSHOT.schema.json")
    base = "http://cyclonedx.org/schema/"
    registry: Registry = Registry().with_resources(
        [
            (base + "bom-1.6.schema.json", Resource.from_contents(bom)),
            (
                base + "spdx.SNAPSHOT.schema.json",
                Resource.from_contents(_load("spdx.SNAPSHOT.schema.json")),
            ),
            (
                base + "jsf-0.82.SNAPSHOT.schema.json",
                Resource.from_contents(_load("jsf-0.82.SNAPSHOT.schema.json")),
            ),
        ]
    )
    return jsonschema.Draft7Validator(bom, registry=registry)


class SpdxInvalid(AssertionError):
    """The SPDX tools refused the document."""


class SpdxValidator:
    """The SPDX project's own tools (spdx-tools): parse the JSON document, then validate it."""

    def validate(self, doc: dict[str, Any]) -> None:
        try:
            parsed = JsonLikeDictParser().parse(doc)
        except SPDXParsingError as err:
            raise SpdxInvalid("; ".join(err.get_messages())) from err
        problems = validate_full_spdx_document(parsed)
        if problems:
            raise SpdxInvalid("; ".join(p.validation_message for p in problems))


def spdx_validator() -> SpdxValidator:
    return SpdxValidator()


def vuln(
    vuln_id: str,
    name: str,
    version: str,
    *,
    target: str = "image:registry.example/app@sha256:abc",
    status: Status = Status.FAIL,
    severity: Severity = Severity.CRITICAL,
    cvss: list[dict[str, Any]] | None = None,
    kev: bool = False,
    epss: float | None = None,
    fixed: list[str] | None = None,
    aliases: list[str] | None = None,
    ecosystem: str = "PyPI",
    reason: str = "",
) -> Finding:
    """A finding shaped exactly like `opencwpp.vuln.findings` makes them."""
    purl = f"pkg:pypi/{name.lower()}@{version}" if ecosystem == "PyPI" else ""
    return Finding(
        check_id=vuln_id,
        title=f"{vuln_id} in {name} {version}",
        pillar=Pillar.VULNERABILITY,
        severity=severity,
        status=status,
        resource=ResourceRef(
            uid=f"{target}#{ecosystem}/{name}", type="container_image", name=f"{name} in {target}"
        ),
        status_reason=reason or f"{name} {version} is affected",
        evidence={
            "target": target,
            "package": {
                "name": name,
                "version": version,
                "versions": [version],
                "ecosystem": ecosystem,
                "purl": purl,
                "source_name": "",
                "paths": ["usr/lib/python3/dist-packages"],
                "layers": [],
            },
            "vulnerability": {
                "id": vuln_id,
                "aliases": aliases or [],
                "advisories": [vuln_id],
                "related": [],
                "summary": f"summary of {vuln_id}",
                "severity": severity.value,
                "severity_basis": "CVSS_V3 9.8" if cvss else "database rating critical",
                "cvss": cvss or [],
                "kev": kev,
                "epss": epss,
            },
            "fixed_versions": fixed or [],
            "matched_by": ["range"],
            "priority": {"level": "critical", "reasons": ["critical severity"]},
        },
        remediation=f"Upgrade {name} to {' or '.join(fixed)}." if fixed else "No fix.",
        last_seen=T,
    )


def posture(check: str) -> Finding:
    """A posture check of the vulnerability pillar: no package, so no SBOM entry."""
    return Finding(
        check_id=check,
        title="ECR scan on push is off",
        pillar=Pillar.VULNERABILITY,
        severity=Severity.MEDIUM,
        status=Status.FAIL,
        resource=ResourceRef("arn:aws:ecr:eu-west-1:123456789012:repository/r", "aws_ecr"),
    )


@pytest.fixture
def data() -> ReportData:
    django = vuln(
        "CVE-2099-1",
        "Django",
        "3.2.0",
        cvss=[{"type": "CVSS_V3", "vector": CVSS, "score": 9.8}],
        epss=0.91,
        fixed=["3.2.5"],
        aliases=["GHSA-aaaa-bbbb-cccc", "PYSEC-2099-1"],
    )
    other_image = vuln(
        "CVE-2099-1",
        "Django",
        "3.2.0",
        target="image:registry.example/api@sha256:def",
        cvss=[{"type": "CVSS_V3", "vector": CVSS, "score": 9.8}],
        fixed=["3.2.5"],
    )
    ssl = vuln(
        "DSA-9999-1",
        "libssl3",
        "3.0.11-1~deb12u1",
        ecosystem="Debian:12",
        severity=Severity.LOW,
        kev=True,
        fixed=["3.0.11-1~deb12u2"],
    )
    muted = vuln(
        "GO-2099-1",
        "golang.org/x/net",
        "0.7.0",
        ecosystem="Go",
        status=Status.MUTED,
        severity=Severity.MEDIUM,
        reason="muted by alice: not reachable",
    )
    resolved = vuln("CVE-2099-7", "requests", "2.0.0", status=Status.PASS)
    findings = [django, other_image, ssl, muted, resolved, posture("ecr_repository_scan_on_push")]
    lifecycle = {resolved.id: "RESOLVED", django.id: "NEW"}
    return ReportData(findings, T, "duckdb:///lake.duckdb", "run-1", lifecycle)


def test_cyclonedx_is_valid_and_links_vulnerabilities_to_components(data: ReportData) -> None:
    doc = json.loads(get_format("cyclonedx").render(data))
    cyclonedx_validator().validate(doc)
    assert doc["specVersion"] == "1.6" and doc["bomFormat"] == "CycloneDX"
    refs = {c["bom-ref"]: c for c in doc["components"]}
    by_id = {(v["id"], v["analysis"]["state"]): v for v in doc["vulnerabilities"]}
    assert set(by_id) == {
        ("CVE-2099-1", "in_triage"),
        ("DSA-9999-1", "in_triage"),
        ("GO-2099-1", "in_triage"),
        ("CVE-2099-7", "resolved"),
    }
    django = by_id[("CVE-2099-1", "in_triage")]
    # one vulnerability, one component (same package at the same path), two targets named
    [affect] = django["affects"]
    component = refs[affect["ref"]]
    assert component["purl"] == "pkg:pypi/django@3.2.0"
    targets = {p["value"] for p in component["properties"] if p["name"] == "opencwpp:target"}
    assert targets == {
        "image:registry.example/app@sha256:abc",
        "image:registry.example/api@sha256:def",
    }
    assert affect["versions"] == [{"version": "3.2.0", "status": "affected"}]
    [rating] = django["ratings"]
    assert rating["method"] == "CVSSv31" and rating["score"] == 9.8
    assert rating["severity"] == "critical" and rating["vector"] == CVSS
    assert {r["id"] for r in django["references"]} == {"GHSA-aaaa-bbbb-cccc", "PYSEC-2099-1"}
    assert django["analysis"]["response"] == ["update"]
    props = {p["name"]: p["value"] for p in django["properties"]}
    assert props["opencwpp:epss"] == "0.91000" and props["opencwpp:kev"] == "false"
    assert django["source"]["url"] == "https://nvd.nist.gov/vuln/detail/CVE-2099-1"
    ssl = by_id[("DSA-9999-1", "in_triage")]
    assert {p["name"]: p["value"] for p in ssl["properties"]}["opencwpp:kev"] == "true"
    assert ssl["ratings"] == [
        {"severity": "low", "method": "other", "justification": "database rating critical"}
    ]
    muted = by_id[("GO-2099-1", "in_triage")]
    assert muted["analysis"]["response"] == ["will_not_fix"]
    assert "not reachable" in muted["analysis"]["detail"]
    # the posture check of the vulnerability pillar has no package: not in the BOM
    assert "ecr_repository_scan_on_push" not in json.dumps(doc)
    bom_refs = [c["bom-ref"] for c in doc["components"]] + [
        v["bom-ref"] for v in doc["vulnerabilities"]
    ]
    assert len(bom_refs) == len(set(bom_refs))


def test_cyclonedx_schema_catches_a_broken_document(data: ReportData) -> None:
    doc = cdx_document(data)
    doc["vulnerabilities"][0]["analysis"]["state"] = "fixed-ish"
    with pytest.raises(jsonschema.ValidationError):
        cyclonedx_validator().validate(doc)


def test_spdx_is_valid_with_security_refs_on_the_right_packages(data: ReportData) -> None:
    doc = json.loads(get_format("spdx").render(data))
    spdx_validator().validate(doc)
    assert doc["spdxVersion"] == "SPDX-2.3"
    packages = {p["name"]: p for p in doc["packages"]}
    assert set(packages) == {"Django", "libssl3", "golang.org/x/net", "requests"}
    for pkg in doc["packages"]:
        assert re.match(r"^SPDXRef-[A-Za-z0-9.-]+$", pkg["SPDXID"])
    django = packages["Django"]["externalRefs"]
    assert django[0] == {
        "referenceCategory": "PACKAGE-MANAGER",
        "referenceType": "purl",
        "referenceLocator": "pkg:pypi/django@3.2.0",
    }
    security = [r for r in django if r["referenceCategory"] == "SECURITY"]
    assert {r["referenceLocator"] for r in security} == {
        "https://nvd.nist.gov/vuln/detail/CVE-2099-1",
        "https://github.com/advisories/GHSA-aaaa-bbbb-cccc",
        "https://osv.dev/vulnerability/PYSEC-2099-1",
    }
    assert all(r["referenceType"] == "advisory" for r in security)
    assert any(
        "EPSS 0.91000" in r["comment"] and "fixed in 3.2.5" in r["comment"] for r in security
    )
    ssl = packages["libssl3"]["externalRefs"]
    assert [r["referenceCategory"] for r in ssl] == ["PACKAGE-MANAGER", "SECURITY"]
    assert ssl[0]["referenceLocator"].startswith("pkg:deb/debian/libssl3@")
    assert "in CISA KEV" in ssl[1]["comment"]
    assert "muted: muted by alice" in packages["golang.org/x/net"]["externalRefs"][-1]["comment"]
    assert "resolved" in packages["requests"]["externalRefs"][-1]["comment"]
    assert all(" " not in r["referenceLocator"] for p in doc["packages"] for r in p["externalRefs"])


def test_spdx_schema_catches_a_broken_document(data: ReportData) -> None:
    doc = spdx_document(data)
    doc["packages"][0]["externalRefs"][0]["referenceCategory"] = "VULN"
    with pytest.raises(SpdxInvalid, match="VULN"):
        spdx_validator().validate(doc)


def test_no_vulnerability_findings_give_empty_valid_documents_and_a_warning() -> None:
    data = ReportData([posture("ecr_repository_scan_on_push")], T, "duckdb:///x")
    cdx = json.loads(get_format("cyclonedx").render(data))
    cyclonedx_validator().validate(cdx)
    assert cdx["components"] == [] and cdx["vulnerabilities"] == []
    assert cdx["metadata"]["properties"] == [{"name": "opencwpp:note", "value": NO_VULNERABILITIES}]
    spdx = json.loads(get_format("spdx").render(data))
    spdx_validator().validate(spdx)
    assert spdx["comment"] == NO_VULNERABILITIES
    assert [p["SPDXID"] for p in spdx["packages"]] == ["SPDXRef-Assessed-Lake"]
    warning = empty_warning("cyclonedx", data)
    assert warning is not None and "no finding in this report is a vulnerability" in warning
    assert empty_warning("json", data) is None  # only the SBOM formats warn


def test_documents_are_deterministic(data: ReportData) -> None:
    assert get_format("cyclonedx").render(data) == get_format("cyclonedx").render(data)
    assert get_format("spdx").render(data) == get_format("spdx").render(data)


def test_hostile_package_names_stay_data() -> None:
    finding = vuln("CVE-2099-9", HOSTILE, "1.0\u202e", ecosystem="npm")
    data = ReportData([finding], T, "duckdb:///x")
    cdx = json.loads(get_format("cyclonedx").render(data))
    cyclonedx_validator().validate(cdx)
    assert cdx["components"][0]["name"] == HOSTILE
    spdx = json.loads(get_format("spdx").render(data))
    spdx_validator().validate(spdx)
    assert spdx["packages"][0]["name"] == HOSTILE
    assert re.match(r"^SPDXRef-[A-Za-z0-9.-]+$", spdx["packages"][0]["SPDXID"])


def test_console_text_is_grouped_by_check_without_escape_codes() -> None:
    hostile = Finding(
        check_id="s3_bucket_public_acl",
        title="S3 bucket is public",
        pillar=Pillar.ACCESS,
        severity=Severity.CRITICAL,
        status=Status.FAIL,
        resource=ResourceRef(
            "arn:aws:s3:::b", "aws_s3_buckets", "1", "eu-west-1", "[red]x[/red]\x1b[2J"
        ),
        status_reason=HOSTILE,
    )
    passing = Finding(
        check_id="kms_key_rotation",
        title="KMS rotation",
        pillar=Pillar.ENCRYPTION,
        severity=Severity.MEDIUM,
        status=Status.PASS,
        resource=ResourceRef("arn:aws:kms:eu-west-1:1:key/k", "aws_kms_keys", "1", "eu-west-1"),
    )
    text = get_format("console").render(ReportData([passing, hostile], T, "duckdb:///x"))
    assert "\x1b" not in text
    assert "[red]x[/red]" in text and HOSTILE in text
    # checks with failures first; each check's header names severity, id and failing count
    public = text.index("CRITICAL  s3_bucket_public_acl")
    rotation = text.index("MEDIUM  kms_key_rotation")
    assert public < rotation
    assert "1 failing of 1" in text[public:rotation] and "0 failing of 1" in text[rotation:]
    assert "No findings match." in get_format("console").render(ReportData([], T, "duckdb:///x"))


def test_console_caps_rows_per_check_failing_first() -> None:
    from opencwpp.report.formats.console import MAX_ROWS_PER_CHECK

    def bucket(i: int, status: Status) -> Finding:
        return Finding(
            check_id="s3_bucket_versioning_enabled",
            title="versioning",
            pillar=Pillar.ENCRYPTION,
            severity=Severity.LOW,
            status=status,
            resource=ResourceRef(f"arn:aws:s3:::b{i:04d}", "aws_s3_buckets", "1", "eu-west-1"),
        )

    extra = 7
    passing = [bucket(i, Status.PASS) for i in range(MAX_ROWS_PER_CHECK)]
    failing = [bucket(MAX_ROWS_PER_CHECK + i, Status.FAIL) for i in range(extra)]
    text = get_format("console").render(ReportData(passing + failing, T, "duckdb:///x"))
    table = text.split("s3_bucket_versioning_enabled · versioning")[1]
    assert f"… {extra} more findings of this check" in table
    assert table.count("│ FAIL ") == extra  # every failing row is kept, passing ones are cut
    assert table.count("│ PASS ") == MAX_ROWS_PER_CHECK - extra
