"""Compliance framework files: they load, and they agree with the checks' own metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencwpp.checks.discovery import builtin_checks
from opencwpp.compliance import builtin_frameworks, discover, get_framework, load_framework
from opencwpp.core.errors import ConfigError, UsageError

SHIPPED = ("aws-fsbp", "cis-aws-3.0", "cis-aws-5.0", "nist-800-53-r5", "pci-dss-4.0", "soc2")


def test_every_issue_framework_ships() -> None:
    assert set(SHIPPED) <= set(builtin_frameworks().keys())


@pytest.mark.parametrize("framework_id", SHIPPED)
def test_every_referenced_check_exists(framework_id: str) -> None:
    checks = set(builtin_checks().keys())
    missing = sorted(get_framework(framework_id).check_ids - checks)
    assert missing == [], f"{framework_id} names unknown checks: {missing}"


def test_every_check_metadata_reference_exists_in_its_framework() -> None:
    frameworks = builtin_frameworks()
    unknown = []
    for check in builtin_checks():
        for fw_id, reqs in check.meta.compliance.items():
            if fw_id not in frameworks:
                unknown.append(f"{check.id}: framework {fw_id}")
                continue
            known = frameworks.get(fw_id).by_id
            unknown += [f"{check.id}: {fw_id} {r}" for r in reqs if r not in known]
    assert unknown == []


@pytest.mark.parametrize(("framework_id", "count"), [("cis-aws-3.0", 62), ("cis-aws-5.0", 63)])
def test_cis_files_list_every_recommendation(framework_id: str, count: int) -> None:
    framework = get_framework(framework_id)
    assert len(framework.requirements) == count
    sections = {r.id.split(".")[0] for r in framework.requirements}
    assert sections == {"1", "2", "3", "4", "5"}


def test_manual_and_unmapped_requirements_are_not_automated() -> None:
    cis = get_framework("cis-aws-5.0")
    assert not cis.by_id["1.6"].automated  # manual, even with a supporting check
    assert not cis.by_id["1.2"].automated  # manual: contact details
    assert cis.by_id["3.8"].automated
    assert cis.by_id["5.7"].automated
    assert 0 < cis.automated_share < 1


def test_unknown_framework_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"unknown framework 'cis-aws-9'.*cis-aws-5\.0"):
        get_framework("cis-aws-9")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fw.yaml"
    path.write_text("id: test-fw\nname: Test\nversion: '1'\nsource: https://example.org\n" + body)
    return path


def test_unquoted_numeric_requirement_id_is_rejected(tmp_path: Path) -> None:
    # `1.10` unquoted is the float 1.1: silently merging 1.1 and 1.10 would be a wrong mapping.
    path = _write(tmp_path, "requirements:\n  - {id: 1.10, title: Ten}\n")
    with pytest.raises(ConfigError, match=r"fw\.yaml: requirements\.0\.id: .*quoted string"):
        load_framework(path)


def test_bad_framework_files_name_the_problem(tmp_path: Path) -> None:
    path = _write(tmp_path, "requirements:\n  - {id: a, title: One, checkz: [x]}\n")
    with pytest.raises(ConfigError, match=r"requirements\.0\.checkz: Extra inputs"):
        load_framework(path)
    path = _write(tmp_path, "requirements:\n  - {id: a, title: One}\n  - {id: a, title: Two}\n")
    with pytest.raises(ConfigError, match="duplicate requirement id 'a'"):
        load_framework(path)
    path.write_text("id: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_framework(path)


def test_discover_reads_a_folder(tmp_path: Path) -> None:
    _write(tmp_path, "requirements:\n  - {id: r1, title: One, checks: [c1]}\n")
    found = discover(tmp_path)
    assert found.keys() == ["test-fw"]
    assert found.get("test-fw").requirements_of("c1") == ["r1"]
