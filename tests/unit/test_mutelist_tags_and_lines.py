"""Mutelist: matching by resource tags, expiry, and errors that name the line of the bad entry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from opencwpp.core.errors import ConfigError
from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import load_mutelist

TODAY = date(2026, 6, 1)


def _finding(tags: dict[str, str], account: str = "111111111111") -> Finding:
    return Finding(
        "ec2_instance_public_ip",
        "t",
        Pillar.ACCESS,
        Severity.MEDIUM,
        Status.FAIL,
        ResourceRef(
            uid="arn:aws:ec2:eu-west-1:1:instance/i-1",
            type="AwsEc2Instance",
            account_id=account,
            region="eu-west-1",
            name="i-1",
            tags=tags,
        ),
    )


RULE = (
    "mutes:\n"
    "  - check: ec2_*\n"
    "    account: '111111111111'\n"
    "    tags: {env: 'sandbox-*', team: web}\n"
    "    reason: sandbox instances are public by design\n"
    "    owner: alice\n"
    "    expires: 2030-01-01\n"
)


def test_tags_mute_when_every_tag_matches(tmp_path: Path) -> None:
    mutelist = load_mutelist(_write(tmp_path, RULE))
    [out] = mutelist.apply([_finding({"env": "sandbox-eu", "team": "web", "x": "y"})], TODAY)
    assert out.status is Status.MUTED and "muted by alice" in out.status_reason


@pytest.mark.parametrize(
    "tags",
    [
        {"env": "production", "team": "web"},  # value does not match the glob
        {"env": "sandbox-eu"},  # a required tag is missing
        {
            "Env": "sandbox-eu",
            "team": "web",
        },  # tag keys match exactly
        {},
    ],
)
def test_tags_near_misses_stay_failing(tmp_path: Path, tags: dict[str, str]) -> None:
    mutelist = load_mutelist(_write(tmp_path, RULE))
    [out] = mutelist.apply([_finding(tags)], TODAY)
    assert out.status is Status.FAIL


def test_tags_and_account_both_apply(tmp_path: Path) -> None:
    mutelist = load_mutelist(_write(tmp_path, RULE))
    tags = {"env": "sandbox-eu", "team": "web"}
    [out] = mutelist.apply([_finding(tags, account="222222222222")], TODAY)
    assert out.status is Status.FAIL


def test_expired_tag_rule_stops_muting_and_is_reported(tmp_path: Path) -> None:
    mutelist = load_mutelist(_write(tmp_path, RULE.replace("2030-01-01", "2026-05-31")))
    [out] = mutelist.apply([_finding({"env": "sandbox-eu", "team": "web"})], TODAY)
    assert out.status is Status.FAIL
    assert [r.owner for r in mutelist.expired(TODAY)] == ["alice"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mutelist.yaml"
    path.write_text(text)
    return path


GOOD = "  - check: a\n    reason: fine reason\n    owner: bob\n    expires: 2030-01-01\n"


def test_missing_owner_names_the_entry_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "mutes:\n" + GOOD + "  - check: b\n    reason: no owner here\n")
    with pytest.raises(ConfigError, match=r"mutes\.1\.owner: Field required \(line 6\)"):
        load_mutelist(path)


def test_an_entry_without_expiry_is_refused_naming_its_line(tmp_path: Path) -> None:
    no_expiry = "  - check: b\n    reason: forever and ever\n    owner: bob\n"
    path = _write(tmp_path, "mutes:\n" + GOOD + no_expiry)
    with pytest.raises(ConfigError, match=r"mutes\.1\.expires: Field required \(line 6\)"):
        load_mutelist(path)


def test_bad_value_names_its_own_line(tmp_path: Path) -> None:
    text = "mutes:\n" + GOOD + GOOD.replace("2030-01-01", "next-tuesday")
    with pytest.raises(ConfigError, match=r"mutes\.1\.expires: .*\(line 9\)"):
        load_mutelist(_write(tmp_path, text))


def test_bad_tag_and_unknown_key_name_their_lines(tmp_path: Path) -> None:
    text = "mutes:\n" + GOOD + "    tags:\n      env: [a, b]\n"
    with pytest.raises(ConfigError, match=r"mutes\.0\.tags\.env: .*\(line 7\)"):
        load_mutelist(_write(tmp_path, text))
    text = "mutes:\n" + GOOD + "    resorce: typo\n"
    with pytest.raises(ConfigError, match=r"mutes\.0\.resorce: Extra inputs .*\(line 6\)"):
        load_mutelist(_write(tmp_path, text))


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = "mutes:\n" + GOOD + "  - check: [unclosed\n"
    with pytest.raises(ConfigError, match=r"not valid YAML \(line \d+\)"):
        load_mutelist(_write(tmp_path, text))
