"""`cwpp report -f cyclonedx|spdx|console` over a lake filled by a real vulnerability scan.

Advisories are imported and a Debian root filesystem is scanned exactly as `cwpp vuln scan` does,
on DuckDB and PostgreSQL; the exports are validated against the official schemas.
"""

import json
from pathlib import Path

from typer.testing import CliRunner

from opencwpp.cli import report_commands
from opencwpp.lake import Lake
from opencwpp.vuln.scan import scan
from tests.data.vuln import builders as b
from tests.integration.test_vuln_scan import _import_all, advisories
from tests.integration.test_web_dashboard import seed_lake
from tests.unit.test_report_sbom_exports import cyclonedx_validator, spdx_validator

runner = CliRunner()


def _scanned(lake_url: str, tmp_path: Path) -> None:
    with Lake.open(lake_url) as lake:
        _import_all(lake, advisories(tmp_path))
        scan(lake, b.debian_rootfs(tmp_path / "root"))
        seed_lake(lake)  # posture findings and a hostile tag: not vulnerabilities


def test_cyclonedx_and_spdx_from_a_real_scan(lake_url: str, tmp_path: Path) -> None:
    _scanned(lake_url, tmp_path)
    cdx_path, spdx_path = tmp_path / "out.cdx.json", tmp_path / "out.spdx.json"
    for fmt, path in (("cyclonedx", cdx_path), ("spdx", spdx_path)):
        result = runner.invoke(
            report_commands.app, ["report", "-f", fmt, "-o", str(path), "--lake", lake_url]
        )
        assert result.exit_code == 0, result.output
        assert "warning" not in result.output
    bom = json.loads(cdx_path.read_text())
    cyclonedx_validator().validate(bom)
    vulns = {v["id"]: v for v in bom["vulnerabilities"]}
    assert set(vulns) == {"CVE-2099-1", "DSA-9999-1", "GO-2099-1"}
    refs = {c["bom-ref"]: c for c in bom["components"]}
    ssl_names = {refs[a["ref"]]["name"] for a in vulns["DSA-9999-1"]["affects"]}
    assert ssl_names == {"libssl3", "openssl"}  # the source package's binaries, both affected
    kev = {p["name"]: p["value"] for p in vulns["DSA-9999-1"]["properties"]}["opencwpp:kev"]
    assert kev == "true"
    django = vulns["CVE-2099-1"]
    assert django["ratings"][0]["method"] == "CVSSv31"
    assert django["ratings"][0]["severity"] == "critical"
    assert {r["id"] for r in django["references"]} == {"GHSA-aaaa-bbbb-cccc", "PYSEC-2099-1"}
    assert refs[django["affects"][0]["ref"]]["purl"] == "pkg:pypi/django@3.2.0"
    assert "s3_bucket_public_acl" not in cdx_path.read_text()
    doc = json.loads(spdx_path.read_text())
    spdx_validator().validate(doc)
    security = {
        p["name"]: [r for r in p["externalRefs"] if r["referenceCategory"] == "SECURITY"]
        for p in doc["packages"]
    }
    assert set(security) == {"Django", "libssl3", "openssl", "golang.org/x/net"}
    assert all(security.values())


def test_sbom_without_vulnerabilities_warns_on_stderr(lake_url: str, tmp_path: Path) -> None:
    with Lake.open(lake_url) as lake:
        seed_lake(lake)
    path = tmp_path / "empty.cdx.json"
    result = runner.invoke(
        report_commands.app, ["report", "-f", "cyclonedx", "-o", str(path), "--lake", lake_url]
    )
    assert result.exit_code == 0, result.output
    assert "no finding in this report is a vulnerability" in result.stderr
    bom = json.loads(path.read_text())
    cyclonedx_validator().validate(bom)
    assert bom["vulnerabilities"] == [] and bom["components"] == []


def test_console_format_prints_to_the_terminal_or_a_plain_file(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'lake.duckdb'}"
    with Lake.open(url) as lake:
        seed_lake(lake)
    shown = runner.invoke(report_commands.app, ["report", "-f", "console", "--lake", url])
    assert shown.exit_code == 0, shown.output
    assert "CRITICAL  s3_bucket_public_acl" in shown.output  # 80 columns: long cells fold
    assert "<img src=x" in shown.output
    path = tmp_path / "report.txt"
    written = runner.invoke(
        report_commands.app, ["report", "-f", "console", "-o", str(path), "--lake", url]
    )
    assert written.exit_code == 0, written.output
    text = path.read_text()
    assert "\x1b" not in text and "CRITICAL  s3_bucket_public_acl" in text
    # any other format still needs a destination
    refused = runner.invoke(report_commands.app, ["report", "-f", "json", "--lake", url])
    assert refused.exit_code != 0
