"""The allow-list of known automation: matching, expiry, file shapes and errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from opencwpp.core.errors import ConfigError
from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.detect.allowlist import load_allowlist, parse_allowlist


def _alert(identity: str, check: str = "stateful:burst-access-denied") -> Finding:
    return Finding(
        check_id=check,
        title="Storm of access-denied errors by one identity",
        pillar=Pillar.THREAT,
        severity=Severity.MEDIUM,
        status=Status.FAIL,
        resource=ResourceRef(uid=identity, type="AwsIdentity", account_id="111111111111"),
    )


TERRAFORM = "arn:aws:sts::111111111111:assumed-role/Terraform-Deploy/session-1"
ENTRY = {
    "identity": "arn:aws:sts::*:assumed-role/terraform-*",
    "owner": "platform",
    "reason": "IaC",
}


def test_identity_glob_is_case_insensitive_and_rule_defaults_to_all() -> None:
    allow = parse_allowlist({"detect": {"allow": [ENTRY]}})
    muted, other = allow.apply([_alert(TERRAFORM), _alert("arn:aws:iam::111111111111:user/eve")])
    assert muted.status is Status.MUTED and "allow-listed by platform: IaC" in muted.status_reason
    assert muted.evidence["allow_list"]["owner"] == "platform"
    assert other.status is Status.FAIL


@pytest.mark.parametrize(
    ("rule", "muted"),
    [
        ("stateful:burst-*", True),
        ("burst-access-denied", True),
        ("storm of access-denied*", True),
        ("sigma:*", False),
    ],
)
def test_rule_pattern_matches_check_id_rule_id_or_title(rule: str, muted: bool) -> None:
    allow = parse_allowlist({"allow": [ENTRY | {"rule": rule}]})
    assert (allow.apply([_alert(TERRAFORM)])[0].status is Status.MUTED) is muted


def test_expired_entry_mutes_nothing_and_is_reported() -> None:
    allow = parse_allowlist({"allow": [ENTRY | {"expires": "2024-01-31"}]})
    assert allow.apply([_alert(TERRAFORM)], today=date(2024, 2, 1))[0].status is Status.FAIL
    assert allow.apply([_alert(TERRAFORM)], today=date(2024, 1, 31))[0].status is Status.MUTED
    assert [e.owner for e in allow.expired(date(2024, 2, 1))] == ["platform"]


def test_file_errors_are_one_line_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "cwpp.yaml"
    path.write_text("detect:\n  allow:\n    - identity: x\n      owner: me\n")
    with pytest.raises(ConfigError, match=r"cwpp.yaml: detect.allow.0.reason: Field required"):
        load_allowlist(path)
    path.write_text("detect: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_allowlist(path)
    with pytest.raises(ConfigError, match="cannot read allow-list"):
        load_allowlist(tmp_path / "missing.yaml")
    path.write_text("lake: duckdb:///x\n")
    assert load_allowlist(path).entries == ()
