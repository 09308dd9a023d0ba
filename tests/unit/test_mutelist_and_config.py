"""Suppressions and configuration."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from opencwpp.config import load_settings
from opencwpp.core.errors import ConfigError
from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import load_mutelist


def _finding(uid: str, status: Status = Status.FAIL) -> Finding:
    return Finding(
        "s3_bucket_public_acl",
        "t",
        Pillar.ACCESS,
        Severity.HIGH,
        status,
        ResourceRef(
            uid=uid, type="AwsS3Bucket", account_id="000000000000", name=uid.rsplit(":", 1)[-1]
        ),
    )


def test_mutelist_mutes_matching_failures_until_expiry(tmp_path: Path) -> None:
    path = tmp_path / "mutelist.yaml"
    path.write_text(
        "mutes:\n"
        "  - check: s3_bucket_public_*\n    resource: website-*\n"
        "    reason: approved public website\n    owner: alice\n    expires: 2030-01-01\n"
        "  - check: '*'\n    resource: arn:aws:s3:::old\n    reason: expired rule\n"
        "    owner: bob\n    expires: 2020-01-01\n"
    )
    mutelist = load_mutelist(path)
    out = mutelist.apply(
        [
            _finding("arn:aws:s3:::website-a"),
            _finding("arn:aws:s3:::old"),
            _finding("arn:aws:s3:::website-b", Status.PASS),
        ],
        today=date(2026, 11, 27),
    )
    assert [f.status for f in out] == [Status.MUTED, Status.FAIL, Status.PASS]
    assert out[0].status_reason == "muted by alice: approved public website"
    assert [r.owner for r in mutelist.expired(date(2026, 11, 27))] == ["bob"]


def test_mutelist_requires_reason_and_owner(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("mutes:\n  - check: x\n    reason: because\n")
    with pytest.raises(ConfigError, match=r"m\.yaml: mutes\.0\.owner: Field required"):
        load_mutelist(path)


def test_config_file_env_and_flags_merge(tmp_path: Path) -> None:
    path = tmp_path / "cwpp.yaml"
    path.write_text("lake: duckdb:///file.duckdb\naws:\n  regions: [eu-west-1]\nfail_on: low\n")
    settings = load_settings(path, env={"CWPP_FAIL_ON": "high"}, overrides={"lake": None})
    assert settings.lake == "duckdb:///file.duckdb"
    assert settings.aws.regions == ["eu-west-1"]
    assert settings.fail_on is not None and settings.fail_on.value == "high"
    flagged = load_settings(path, env={}, overrides={"lake": "duckdb:///flag.duckdb"})
    assert flagged.lake == "duckdb:///flag.duckdb"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("aws:\n  regoins: [x]\n", r"aws\.regoins: Extra inputs"),
        ("fail_on: severe\n", "fail_on"),
        ("trusted_accounts: ['12']\n", "trusted_accounts: Value error, not a 12-digit"),
        ("lake: [\n", "not valid YAML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cwpp.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, env={})


def test_default_lake_is_in_xdg_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.lake == f"duckdb://{tmp_path}/opencwpp/lake.duckdb"


def test_config_carries_the_detection_allow_list(tmp_path: Path) -> None:
    path = tmp_path / "cwpp.yaml"
    path.write_text(
        "detect:\n  allow:\n    - identity: arn:aws:iam::*:role/terraform\n"
        "      owner: platform\n      reason: infrastructure as code\n"
    )
    settings = load_settings(path, env={})
    assert [e.owner for e in settings.detect.allow] == ["platform"]
    path.write_text("detect:\n  allow:\n    - identity: x\n")
    with pytest.raises(ConfigError, match=r"detect\.allow\.0\.owner"):
        load_settings(path, env={})
