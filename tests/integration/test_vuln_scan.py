"""Advisory import, scans and findings in a real lake (DuckDB and PostgreSQL), and the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from opencwpp.cli import vuln_commands
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.lake import Lake
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.osv.importer import detect_and_import
from opencwpp.vuln.scan import scan
from opencwpp.vuln.status import db_status
from tests.conftest import require_shared
from tests.data.vuln import builders as b


def _osv(
    rid: str, eco: str, name: str, events: list[dict[str, str]], **extra: Any
) -> dict[str, Any]:
    return {
        "id": rid,
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": eco, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        **extra,
    }


def advisories(root: Path) -> Path:
    osv = root / "osv"
    recs = [
        _osv(
            "PYSEC-2099-1",
            "PyPI",
            "django",
            [{"introduced": "3.0"}, {"fixed": "3.2.5"}],
            aliases=["CVE-2099-1", "GHSA-aaaa-bbbb-cccc"],
            summary="SQL injection",
            severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        ),
        _osv(
            "GHSA-aaaa-bbbb-cccc",
            "PyPI",
            "Django",
            [{"introduced": "3.0"}, {"fixed": "3.2.5"}],
            aliases=["CVE-2099-1", "PYSEC-2099-1"],
        ),
        _osv(
            "PYSEC-2099-2",
            "PyPI",
            "django",
            [{"introduced": "0"}],
            withdrawn="2024-02-01T00:00:00Z",
        ),
        _osv(
            "PYSEC-2099-3", "PyPI", "django", [{"introduced": "0"}, {"fixed": "3.2.0"}]
        ),  # near miss
        _osv(
            "DSA-9999-1",
            "Debian:12",
            "openssl",
            [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}],
            related=["CVE-2099-5"],
            database_specific={"severity": "low"},
        ),
        _osv("DSA-9999-2", "Debian:11", "openssl", [{"introduced": "0"}, {"fixed": "9.9"}]),
        _osv(
            "ALSA-2099:1", "AlmaLinux:9", "openssl", [{"introduced": "0"}, {"fixed": "9:9.9-1.el9"}]
        ),
        _osv("GO-2099-1", "Go", "golang.org/x/net", [{"introduced": "0"}, {"fixed": "0.8.0"}]),
    ]
    for rec in recs:
        b.write(osv, f"{rec['id'].replace(':', '_')}.json", json.dumps(rec))
    b.write(osv, "broken.json", "{")
    b.write(
        root,
        "kev.json",
        json.dumps({"catalogVersion": "1", "vulnerabilities": [{"cveID": "CVE-2099-5"}]}),
    )
    b.write(
        root,
        "epss.csv",
        "#model_version:v2025,score_date:2025-01-01T00:00:00Z\ncve,epss,percentile\nCVE-2099-1,0.91,0.99\n",
    )
    return root


def _import_all(lake: Lake, root: Path) -> None:
    for name in ("osv", "kev.json", "epss.csv"):
        detect_and_import(lake, root / name)


def test_import_is_idempotent_and_reports_bad_records(lake: Lake, tmp_path: Path) -> None:
    root = advisories(tmp_path)
    first = detect_and_import(lake, root / "osv")
    assert first.records == 8 and len(first.problems) == 1 and "broken.json" in first.problems[0]
    detect_and_import(lake, root / "osv")
    status = db_status(lake)
    assert status["counts"]["cwpp_advisories"] == 8
    assert status["counts"]["cwpp_advisory_affected"] == 8
    with pytest.raises(BadInputError, match="not an OSV"):
        b.write(tmp_path, "x.txt", "hello")
        detect_and_import(lake, tmp_path / "x.txt")


def test_scan_findings(lake: Lake, tmp_path: Path) -> None:
    _import_all(lake, advisories(tmp_path))
    result = scan(lake, b.debian_rootfs(tmp_path / "root"))
    by = {(f.evidence["package"]["name"], f.check_id): f for f in result.findings}
    # aliases merged: PYSEC-2099-1 and GHSA-… are one vulnerability, reported as the CVE
    django = by[("Django", "CVE-2099-1")]
    assert sorted(django.evidence["vulnerability"]["aliases"]) == [
        "GHSA-aaaa-bbbb-cccc",
        "PYSEC-2099-1",
    ]
    assert django.severity.value == "critical" and django.evidence["fixed_versions"] == ["3.2.5"]
    assert django.evidence["vulnerability"]["epss"] == pytest.approx(0.91)
    assert django.evidence["package"]["purl"] == "pkg:pypi/django@3.2.0"
    # withdrawn and near-miss (fixed at the installed version) records stay quiet
    assert not any(k[1] in ("PYSEC-2099-2", "PYSEC-2099-3") for k in by)
    # Debian advisory by source package: the binaries libssl3 and openssl both affected;
    # KEV lifts a low-severity finding to critical priority; other distributions do not match.
    ssl = by[("libssl3", "DSA-9999-1")]
    assert ssl.severity.value == "low"
    assert ssl.evidence["priority"]["level"] == "critical"
    assert "exploited in the wild" in ssl.evidence["priority"]["reasons"][0]
    assert ("openssl", "DSA-9999-1") in by
    assert not any(k[1] in ("DSA-9999-2", "ALSA-2099:1") for k in by)
    assert ("golang.org/x/net", "GO-2099-1") in by
    assert len(result.findings) == 4
    rows = lake.query(
        "SELECT count(*) AS n FROM cwpp_packages WHERE resource_uid = ?", [result.inventory.target]
    )
    assert rows[0]["n"] == len(result.inventory.packages)
    stored = load_findings(lake, FindingFilter(pillars=("vulnerability",)))
    assert len(stored) == 4 and all(s.lifecycle == "NEW" for s in stored)


def test_rescan_keeps_history_and_other_targets(lake: Lake, tmp_path: Path) -> None:
    _import_all(lake, advisories(tmp_path))
    one = b.debian_rootfs(tmp_path / "one")
    two = b.debian_rootfs(tmp_path / "two")
    scan(lake, one)
    scan(lake, two)
    (two / "usr/lib/python3/dist-packages/Django-3.2.0.dist-info/METADATA").write_text(
        "Name: Django\nVersion: 3.2.5\n"
    )
    scan(lake, two)
    rows = {
        (s.finding.resource.uid.split("#")[0].rsplit("/", 1)[-1], s.finding.check_id): s.lifecycle
        for s in load_findings(lake, FindingFilter(check_ids=("CVE-2099-1",)))
    }
    # Target one was not rescanned: its finding is untouched (still NEW from its only scan).
    assert rows == {("one", "CVE-2099-1"): "NEW", ("two", "CVE-2099-1"): "RESOLVED"}


def test_real_pypi_advisories(lake: Lake, tmp_path: Path) -> None:
    result = detect_and_import(lake, require_shared("osv/pypi"))
    assert result.records == 819 and result.problems == []
    kev = detect_and_import(lake, require_shared("kev") / "known_exploited_vulnerabilities.json")
    assert kev.records == 1404
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {"type": "library", "name": n, "version": v, "purl": f"pkg:pypi/{n}@{v}"}
            for n, v in [("django", "3.2.0"), ("salt", "2019.2.0"), ("requests", "2.31.0")]
        ],
    }
    b.write(tmp_path, "bom.json", json.dumps(sbom))
    found = scan(lake, tmp_path / "bom.json").findings
    salt = [f for f in found if f.evidence["package"]["name"] == "salt"]
    assert any(f.evidence["vulnerability"]["kev"] for f in salt)
    assert all(
        f.evidence["priority"]["level"] == "critical"
        for f in salt
        if f.evidence["vulnerability"]["kev"]
    )
    # one finding per vulnerability: no two findings of a package share an id or alias
    for pkg in {f.evidence["package"]["name"] for f in found}:
        ids = [
            i
            for f in found
            if f.evidence["package"]["name"] == pkg
            for i in [f.check_id, *f.evidence["vulnerability"]["aliases"]]
        ]
        assert len(ids) == len(set(ids)), pkg
    assert any(f.evidence["package"]["name"] == "django" for f in found)


def _cli() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _cb() -> None:
        """Test root."""

    root.add_typer(vuln_commands.app, name="vuln")
    return root


def test_cli(tmp_path: Path) -> None:
    root = advisories(tmp_path)
    lake = f"duckdb://{tmp_path / 'lake.duckdb'}"
    runner = CliRunner()
    app = _cli()
    out = runner.invoke(
        app,
        [
            "vuln",
            "db",
            "import",
            str(root / "osv"),
            str(root / "kev.json"),
            str(root / "epss.csv"),
            "--lake",
            lake,
        ],
    )
    assert out.exit_code == 0, out.output
    assert "broken.json" in out.output
    out = runner.invoke(app, ["vuln", "db", "status", "--lake", lake])
    assert out.exit_code == 0 and "cwpp_advisories: 8" in out.output
    target = b.debian_rootfs(tmp_path / "root")
    out = runner.invoke(
        app, ["vuln", "scan", str(target), "-f", "json", "--lake", lake, "--fail-on", "critical"]
    )
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    assert {d["vulnerability"]["id"] for d in doc} == {"CVE-2099-1", "DSA-9999-1", "GO-2099-1"}
    assert all({"package", "vulnerability", "fixed_versions", "priority"} <= set(d) for d in doc)
    out = runner.invoke(app, ["vuln", "scan", str(target), "--lake", lake, "--fail-on", "critical"])
    assert out.exit_code == 1
    bad = tmp_path / "bad.json"
    bad.write_text("[")
    out = runner.invoke(app, ["vuln", "scan", str(bad), "--lake", lake])
    assert isinstance(out.exception, BadInputError) and "bad.json" in str(out.exception)


def test_cli_sbom(tmp_path: Path) -> None:
    target = b.debian_rootfs(tmp_path / "root")
    runner = CliRunner()
    for fmt in ("cyclonedx", "spdx"):
        out = runner.invoke(
            _cli(), ["vuln", "sbom", str(target), "-f", fmt, "-o", str(tmp_path / f"{fmt}.json")]
        )
        assert out.exit_code == 0, out.output
    cdx = json.loads((tmp_path / "cyclonedx.json").read_text())
    assert cdx["bomFormat"] == "CycloneDX" and cdx["specVersion"] == "1.6"
    spdx = json.loads((tmp_path / "spdx.json").read_text())
    assert spdx["spdxVersion"] == "SPDX-2.3"


def test_a_name_that_is_not_utf8_is_scanned_stored_and_reported(lake: Lake, tmp_path: Path) -> None:
    """An image's file names are its author's: bytes that are not UTF-8 must not stop a scan."""
    _import_all(lake, advisories(tmp_path))
    root = tmp_path / "root"
    odd = os.fsencode(root / "usr/lib/python3/dist-packages") + b"/site\xff\xfe"
    os.makedirs(odd + b"/Django-3.2.0.dist-info")
    with open(odd + b"/Django-3.2.0.dist-info/METADATA", "wb") as handle:
        handle.write(b"Metadata-Version: 2.1\nName: Django\nVersion: 3.2.0\n")
    result = scan(lake, root)
    (django,) = [f for f in result.findings if f.check_id == "CVE-2099-1"]
    path = "usr/lib/python3/dist-packages/site\\xff\\xfe/Django-3.2.0.dist-info/METADATA"
    assert django.evidence["package"]["paths"] == [path]
    stored = lake.query("SELECT path FROM cwpp_packages WHERE name = 'Django'")
    assert [r["path"] for r in stored] == [path]
    (finding,) = load_findings(lake, FindingFilter(pillars=("vulnerability",)))
    assert finding.finding.evidence["package"]["paths"] == [path]


def test_a_target_whose_name_is_not_utf8_is_scanned(lake: Lake, tmp_path: Path) -> None:
    _import_all(lake, advisories(tmp_path))
    target = os.fsencode(tmp_path) + b"/image\xff"
    dist = target + b"/usr/lib/python3/dist-packages/Django-3.2.0.dist-info"
    os.makedirs(dist)
    with open(dist + b"/METADATA", "wb") as handle:
        handle.write(b"Metadata-Version: 2.1\nName: Django\nVersion: 3.2.0\n")
    result = scan(lake, Path(os.fsdecode(target)))
    assert result.inventory.target.endswith("/image\\xff")
    assert {f.check_id for f in result.findings} == {"CVE-2099-1"}
    (row,) = lake.query("SELECT DISTINCT resource_uid FROM cwpp_packages")
    assert row["resource_uid"] == result.inventory.target
