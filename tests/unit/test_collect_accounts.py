"""Pure parts of multi-account sync and of the detection-service transforms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opencwpp.cli.aws import AccountsChoice
from opencwpp.collect.accounts import check_role_options, parse_account_ids, role_arn
from opencwpp.collect.aws import accessanalyzer, config_service, guardduty, organizations
from opencwpp.collect.aws.policies import POLICY_TABLES
from opencwpp.collect.sync import STATUS_FAILED, ScopeOutcome, SyncFailed, SyncReport
from opencwpp.core.errors import UsageError

ACCOUNT = "111122223333"


def test_account_ids_are_twelve_digits_deduplicated() -> None:
    assert parse_account_ids([" 111122223333", "444455556666", "111122223333"]) == [
        "111122223333",
        "444455556666",
    ]
    with pytest.raises(UsageError, match="12 digits"):
        parse_account_ids(["11112222333"])
    with pytest.raises(UsageError):
        parse_account_ids(["11112222333a"])


def test_role_and_external_id_are_checked() -> None:
    check_role_options("OrganizationAccountAccessRole", "ext-1")
    assert role_arn(ACCOUNT, "Audit") == f"arn:aws:iam::{ACCOUNT}:role/Audit"
    assert role_arn(ACCOUNT, "Audit", "cn-north-1").startswith("arn:aws-cn:iam::")
    with pytest.raises(UsageError):
        check_role_options("bad role; rm", None)
    with pytest.raises(UsageError):
        check_role_options("Audit", "x")  # external ids are 2+ characters


def test_account_options_combine_sensibly() -> None:
    choice = AccountsChoice.parse([f"{ACCOUNT},444455556666"], False, "Audit", None)
    assert choice.accounts == [ACCOUNT, "444455556666"] and choice.role == "Audit"
    assert AccountsChoice.parse(None, True, "Audit", "ext-1").org
    for args in (
        ([ACCOUNT], True, "Audit", None),  # both --accounts and --org
        ([ACCOUNT], False, None, None),  # no role
        (None, False, "Audit", None),  # a role, but no accounts
    ):
        with pytest.raises(UsageError):
            AccountsChoice.parse(*args)


def test_sync_failed_names_accounts_and_units() -> None:
    report = SyncReport("r", ACCOUNT, ["us-east-1"], datetime.now(UTC))
    report.account_failures["444455556666"] = "cannot assume: AccessDenied"
    report.outcomes.append(
        ScopeOutcome("kms.keys", "us-east-1", STATUS_FAILED, "KeyError: 'Arn'", {}, ACCOUNT)
    )
    report.outcomes.append(ScopeOutcome("s3.buckets", None, "ok", account_id=ACCOUNT))
    error = SyncFailed(report)
    assert error.exit_code == 1 and error.report is report
    assert "2 failure(s)" in str(error) and "444455556666" in str(error)
    assert f"{ACCOUNT} kms.keys us-east-1: KeyError" in str(error)


def test_scp_row_content_targets_and_statements() -> None:
    summary = {
        "Id": "p-1",
        "Arn": "arn:aws:organizations::1:policy/o-1/service_control_policy/p-1",
        "Name": "deny",
        "Type": "SERVICE_CONTROL_POLICY",
        "AwsManaged": False,
    }
    content = '{"Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}'
    targets = [{"TargetId": "ou-1", "Arn": "arn:ou", "Name": "prod", "Type": "ORGANIZATIONAL_UNIT"}]
    rows = organizations.transform_policy(ACCOUNT, summary, content, targets)
    policy = rows[organizations.POLICIES][0]
    assert policy["content"]["Statement"][0]["Effect"] == "Deny" and policy["aws_managed"] is False
    target = rows[organizations.POLICY_TARGETS][0]
    assert target["target_id"] == "ou-1" and target["_cq_parent_id"] == policy["_cq_id"]
    assert len(rows[POLICY_TABLES[0]]) == 1


def test_structure_links_accounts_and_ous_to_their_parents() -> None:
    rows = organizations.transform_structure(
        ACCOUNT,
        [{"Id": "r-1", "Arn": "arn:root", "Name": "Root", "PolicyTypes": []}],
        [("r-1", {"Id": "ou-1", "Arn": "arn:ou", "Name": "prod"})],
        [("ou-1", {"Id": "999988887777", "Arn": "arn:acct", "Status": "ACTIVE"}, [])],
    )
    link = rows[organizations.ACCOUNT_PARENTS][0]
    assert (link["parent_id"], link["type"]) == ("ou-1", "ORGANIZATIONAL_UNIT")
    assert rows[organizations.OU_PARENTS][0]["type"] == "ROOT"
    assert link["_cq_parent_id"] == rows[organizations.ACCOUNTS][0]["_cq_id"]


def test_config_recorder_status_and_arn() -> None:
    rec = {"name": "default", "roleARN": "arn:role", "recordingGroup": {"allSupported": True}}
    on = config_service.transform_recorder(ACCOUNT, "eu-west-1", rec, {"recording": True})
    row = on[config_service.RECORDERS][0]
    assert row["arn"] == f"arn:aws:config:eu-west-1:{ACCOUNT}:config-recorder/default"
    assert row["status_recording"] is True and row["recording_group"] == {"AllSupported": True}
    off = config_service.transform_recorder(ACCOUNT, "eu-west-1", rec, None)
    assert off[config_service.RECORDERS][0]["status_recording"] is False


def test_guardduty_and_access_analyzer_rows() -> None:
    det = guardduty.transform_detector(ACCOUNT, "us-east-1", "d1", {"Status": "DISABLED"})
    row = det[guardduty.DETECTORS][0]
    assert row["arn"] == f"arn:aws:guardduty:us-east-1:{ACCOUNT}:detector/d1"
    assert (row["request_account_id"], row["status"]) == (ACCOUNT, "DISABLED")
    analyzer = {
        "arn": "arn:aa",
        "name": "a",
        "type": "ACCOUNT",
        "status": "ACTIVE",
        "statusReason": {"code": "x"},
    }
    rows = accessanalyzer.transform_analyzer(ACCOUNT, "us-east-1", analyzer, [{"ruleName": "r"}])
    assert rows[accessanalyzer.ANALYZERS][0]["status_reason"] == {"Code": "x"}
    rule = rows[accessanalyzer.ARCHIVE_RULES][0]
    assert rule["analyzer_arn"] == "arn:aa" and rule["rule_name"] == "r"
