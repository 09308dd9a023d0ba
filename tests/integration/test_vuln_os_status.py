"""The OS itself: no advisory source (CentOS), and end of life, on DuckDB and PostgreSQL.

A CentOS 7 host used to look clean: its rpm packages matched no advisory. Now the scan says
they were not assessed, and the real endoflife.date data says CentOS 7 ended on 2024-06-30.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from opencwpp.cli import vuln_commands
from opencwpp.core.models import Status
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.lake import Lake
from opencwpp.vuln.extract.base import Package
from opencwpp.vuln.extract.osrelease import OsRelease
from opencwpp.vuln.extract.walk import Inventory
from opencwpp.vuln.os_status import END_OF_LIFE, NO_SOURCE, os_findings
from opencwpp.vuln.osv.importer import detect_and_import
from opencwpp.vuln.scan import scan
from tests.conftest import require_shared
from tests.data.vuln import builders as b
from tests.data.vuln.ebs import disks
from tests.data.vuln.rpm import realdb as r

DEBIAN_10 = 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n'


@pytest.fixture(scope="module")
def centos7_db(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    r.require_tools()
    work = tmp_path_factory.mktemp("centos7")
    return r.packages_file(work / "Packages", r.header_blobs(work, r.CENTOS7)).read_bytes()


def _eol(lake: Lake) -> None:
    result = detect_and_import(lake, require_shared("eol") / "eol.json")
    assert result.problems == []


def _by_check(found: list) -> dict[str, object]:  # type: ignore[type-arg]
    return {f.check_id: f for f in found}


def test_centos_7_is_not_silently_clean(lake: Lake, tmp_path: Path, centos7_db: bytes) -> None:
    _eol(lake)
    root = tmp_path / "centos"
    b.write(root, "etc/os-release", r.CENTOS7_OS)
    b.write(root, "var/lib/rpm/Packages", centos7_db)
    result = scan(lake, root)
    assert result.findings == []  # no advisory can match: that is exactly the gap
    found = {f.check_id: f for f in result.os_findings}
    assert set(found) == {NO_SOURCE, END_OF_LIFE}
    gap = found[NO_SOURCE]
    assert gap.status is Status.FAIL and gap.severity.value == "medium"
    assert gap.status_reason == (
        f"{len(r.expected(r.CENTOS7))} OS packages of CentOS Linux 7 (Core) not matched: "
        "no advisory source covers 'centos' (OSV has no ecosystem for it)"
    )
    eol = found[END_OF_LIFE]
    assert eol.status is Status.FAIL and eol.severity.value == "high"
    assert eol.status_reason.startswith(
        "CentOS Linux 7 (Core) (cycle 7) reached end of life on 2024-06-30: no more security"
    )
    assert eol.resource.uid == f"{root.resolve()}#os"
    stored = load_findings(lake, FindingFilter(resource=f"{root.resolve()}#os"))
    assert {(s.finding.check_id, s.lifecycle) for s in stored} == {
        (NO_SOURCE, "NEW"),
        (END_OF_LIFE, "NEW"),
    }
    # The host is upgraded to AlmaLinux 9 (supported, with advisories): both are resolved.
    disks.alma_tree(root)
    (root / "var/lib/rpm/Packages").unlink()
    assert scan(lake, root).os_findings == []
    stored = load_findings(lake, FindingFilter(resource=f"{root.resolve()}#os"))
    assert {(s.finding.check_id, s.lifecycle) for s in stored} == {
        (NO_SOURCE, "RESOLVED"),
        (END_OF_LIFE, "RESOLVED"),
    }


def test_supported_release_with_advisories_is_quiet(lake: Lake, tmp_path: Path) -> None:
    _eol(lake)
    result = scan(lake, disks.alma_tree(tmp_path / "alma"))
    assert len(result.inventory.packages) == 2 and result.os_findings == []


def test_end_of_life_without_a_source_gap(lake: Lake, tmp_path: Path) -> None:
    # Debian 10 has advisories (no gap) but ended on 2022-09-10 (extended support until 2024).
    _eol(lake)
    root = tmp_path / "buster"
    b.write(root, "etc/os-release", DEBIAN_10)
    b.write(root, "var/lib/dpkg/status", b.DPKG_STATUS)
    found = scan(lake, root).os_findings
    assert [(f.check_id, f.evidence["cycle"], f.evidence["eol"]) for f in found] == [
        (END_OF_LIFE, "10", "2022-09-10")
    ]
    assert found[0].severity.value == "high"  # its extended support ended 2024-06-30 too


def test_extended_support_makes_it_medium(lake: Lake) -> None:
    # RHEL 7: maintenance ended 2024-06-30, extended life-cycle support runs to 2029-05-31.
    _eol(lake)
    inv = Inventory("t", "directory", OsRelease("rhel", "7.9", "Red Hat Enterprise Linux 7.9"))
    (during,) = os_findings(lake, inv, "t", "directory", date(2025, 1, 1))
    assert during.severity.value == "medium"
    assert during.status_reason.endswith(
        "reached end of life on 2024-06-30: only extended support until 2029-05-31"
    )
    (after,) = os_findings(lake, inv, "t", "directory", date(2029, 6, 1))
    assert after.severity.value == "high" and after.status_reason.endswith("no more security fixes")


def test_end_of_life_day_is_the_boundary(lake: Lake) -> None:
    _eol(lake)
    inv = Inventory("t", "directory", OsRelease("centos", "7", "CentOS Linux 7 (Core)"))
    day = date(2024, 6, 30)
    assert [f.check_id for f in os_findings(lake, inv, "t", "directory", day)] == [END_OF_LIFE]
    assert os_findings(lake, inv, "t", "directory", date(2024, 6, 29)) == []


def test_without_eol_data_or_os_packages_nothing_is_claimed(lake: Lake) -> None:
    inv = Inventory("t", "directory", OsRelease("centos", "7", "CentOS Linux 7 (Core)"))
    assert os_findings(lake, inv, "t", "directory") == []  # no cwpp_eol loaded, no packages
    # rpm packages without any os-release: the gap is named, the distribution unknown.
    inv = Inventory("t", "directory", None, [Package("Red Hat", "bash", "4.2-1")])
    (gap,) = os_findings(lake, inv, "t", "directory")
    assert gap.check_id == NO_SOURCE
    assert gap.status_reason.endswith("no /etc/os-release names the distribution")
    # Near miss: language packages only (a project tree) are no OS gap.
    inv = Inventory("t", "directory", None, [Package("PyPI", "requests", "2.0")])
    assert os_findings(lake, inv, "t", "directory") == []


def test_cli_names_the_gap_and_fails_on_end_of_life(tmp_path: Path, centos7_db: bytes) -> None:
    lake_url = f"duckdb://{tmp_path / 'lake.duckdb'}"
    with Lake.open(lake_url) as lake:
        _eol(lake)
    root = tmp_path / "centos"
    b.write(root, "etc/os-release", r.CENTOS7_OS)
    b.write(root, "var/lib/rpm/Packages", centos7_db)
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    app.add_typer(vuln_commands.app, name="vuln")
    args = ["vuln", "scan", str(root), "--lake", lake_url]
    out = CliRunner().invoke(app, [*args, "--fail-on", "high"])
    assert out.exit_code == 1, out.output
    count = len(r.expected(r.CENTOS7))
    assert f"os: {count} OS packages of CentOS Linux 7 (Core) not matched" in out.stderr
    assert "reached end of life on 2024-06-30" in out.stderr
    # Near miss: below the end-of-life finding's severity nothing fails.
    out = CliRunner().invoke(app, [*args, "--fail-on", "critical"])
    assert out.exit_code == 0, out.output
