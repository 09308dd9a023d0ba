"""The Azure checks load, say they are Azure's, and agree with the CIS Azure framework file."""

from __future__ import annotations

from opencwpp.checks import builtin_checks
from opencwpp.checks.discovery import BUILTIN_ROOT
from opencwpp.compliance import get_framework

FRAMEWORK = "cis-azure-2.0"


def _azure_checks() -> list:  # type: ignore[type-arg]
    return [c for c in builtin_checks() if c.folder.is_relative_to(BUILTIN_ROOT / "azure")]


def test_checks_under_azure_are_azure_checks() -> None:
    checks = _azure_checks()
    assert len(checks) >= 15
    for check in checks:
        assert check.meta.provider == "azure", check.id
        assert check.meta.resource_type.startswith("Azure"), check.id
        assert check.folder.parent.name == check.meta.service, check.id
        assert all(t.startswith(("azure_", "cwpp_azure_")) for t in check.meta.tables), check.id


def test_metadata_and_framework_file_map_the_same_requirements() -> None:
    framework = get_framework(FRAMEWORK)
    checks = {c.id: c for c in _azure_checks()}
    assert framework.check_ids <= set(checks), framework.check_ids - set(checks)
    for check_id, check in checks.items():
        declared = sorted(check.meta.compliance.get(FRAMEWORK, []))
        assert declared == sorted(framework.requirements_of(check_id)), check_id


def test_framework_covers_the_verified_sections() -> None:
    framework = get_framework(FRAMEWORK)
    ids = {r.id for r in framework.requirements}
    assert {f"3.{n}" for n in range(1, 16)} <= ids
    assert {f"8.{n}" for n in range(1, 9)} <= ids
    assert "1.23" in ids
    assert framework.by_id["3.1"].automated
    assert not framework.by_id["3.7"].automated  # CIS assesses it by hand: evidence only
    assert not framework.by_id["3.13"].automated  # no check reads storage logging yet
