"""Account-wide IAM facts: the password policy, the credential report, the account summary."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from opencwpp.collect.base import Resource, Row, Rows, SessionContext, error_code, register
from opencwpp.lake.schema import BOOL, INT64, LIST_UTF8, TIMESTAMP, table

PASSWORD_POLICIES = table(
    "aws_iam_password_policies",
    [
        "account_id",
        ("allow_users_to_change_password", BOOL),
        ("expire_passwords", BOOL),
        ("hard_expiry", BOOL),
        ("max_password_age", INT64),
        ("minimum_password_length", INT64),
        ("password_reuse_prevention", INT64),
        ("require_lowercase_characters", BOOL),
        ("require_numbers", BOOL),
        ("require_symbols", BOOL),
        ("require_uppercase_characters", BOOL),
        ("policy_exists", BOOL),
    ],
    cq_id_from=["account_id"],
)
_TIMESTAMP_FIELDS = (
    "user_creation_time",
    "password_last_changed",
    "password_next_rotation",
    "access_key_1_last_rotated",
    "access_key_2_last_rotated",
    "cert_1_last_rotated",
    "cert_2_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_last_used_date",
    "password_last_used",
)
# CSV header -> CloudQuery column, where they differ (and the column's type).
_REPORT_RENAMES = {
    "access_key_1_active": ("access_key1_active", BOOL),
    "access_key_2_active": ("access_key2_active", BOOL),
    "cert_1_active": ("cert1_active", BOOL),
    "cert_2_active": ("cert2_active", BOOL),
    "mfa_active": ("mfa_active", BOOL),
    "access_key_1_last_used_region": ("access_key1_last_used_region", "utf8"),
    "access_key_1_last_used_service": ("access_key1_last_used_service", "utf8"),
    "access_key_2_last_used_region": ("access_key2_last_used_region", "utf8"),
    "access_key_2_last_used_service": ("access_key2_last_used_service", "utf8"),
}
CREDENTIAL_REPORTS = table(
    "aws_iam_credential_reports",
    [
        "arn",
        *((name, TIMESTAMP) for name in _TIMESTAMP_FIELDS),
        "password_enabled",
        "user",
        "password_status",
        *_REPORT_RENAMES.values(),
    ],
    cq_id_from=["arn", "user_creation_time"],
)
_SUMMARY_INTS = (
    "users",
    "users_quota",
    "groups",
    "groups_quota",
    "server_certificates",
    "server_certificates_quota",
    "user_policy_size_quota",
    "group_policy_size_quota",
    "groups_per_user_quota",
    "signing_certificates_per_user_quota",
    "access_keys_per_user_quota",
    "mfa_devices",
    "mfa_devices_in_use",
)
_SUMMARY_BOOLS = (
    "account_mfa_enabled",
    "account_access_keys_present",
    "account_signing_certificates_present",
)
_SUMMARY_INTS_2 = (
    "attached_policies_per_group_quota",
    "attached_policies_per_role_quota",
    "attached_policies_per_user_quota",
    "policies",
    "policies_quota",
    "policy_size_quota",
    "policy_versions_in_use",
    "policy_versions_in_use_quota",
    "versions_per_policy_quota",
    "global_endpoint_token_version",
)
ACCOUNTS = table(
    "aws_iam_accounts",
    [
        "account_id",
        *((name, INT64) for name in _SUMMARY_INTS),
        *((name, BOOL) for name in _SUMMARY_BOOLS),
        *((name, INT64) for name in _SUMMARY_INTS_2),
        ("aliases", LIST_UTF8),
    ],
    cq_id_from=["account_id"],
)
_NULLS = frozenset({"", "N/A", "not_supported", "no_information"})
_REPORT_POLL_SECONDS = 1.0
_REPORT_POLL_ATTEMPTS = 20


def transform_password_policy(account_id: str, policy: Mapping[str, Any] | None) -> Row:
    """The password policy row; `policy_exists` false (other columns NULL) when none is set."""
    row: Row = {"account_id": account_id, "policy_exists": policy is not None}
    for column in PASSWORD_POLICIES.column_names:
        if column.startswith("_cq") or column in row:
            continue
        key = snake_to_pascal(column)
        row[column] = (policy or {}).get(key)
    return row


def snake_to_pascal(name: str) -> str:
    """`minimum_password_length` -> `MinimumPasswordLength`."""
    return "".join(part.capitalize() for part in name.split("_"))


def pascal_to_snake(name: str) -> str:
    """`AccountMFAEnabled` -> `account_mfa_enabled`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _report_value(value: str, arrow_type: str) -> Any:
    if value in _NULLS:
        return None
    if arrow_type == BOOL:
        return value.lower() == "true"
    if arrow_type == TIMESTAMP:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def parse_credential_report(content: bytes | str) -> list[Row]:
    """The credential report CSV as rows; 'N/A', 'not_supported', 'no_information' are NULL."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    rows: list[Row] = []
    for record in csv.DictReader(io.StringIO(text)):
        row: Row = {}
        for header, value in record.items():
            if header is None:
                continue
            column = _REPORT_RENAMES.get(header, (header, ""))[0]
            if not CREDENTIAL_REPORTS.has_column(column):
                continue
            row[column] = _report_value(value or "", CREDENTIAL_REPORTS.column_type(column))
        rows.append(row)
    return rows


def transform_account_summary(
    account_id: str, summary: Mapping[str, Any], aliases: list[str]
) -> Row:
    """GetAccountSummary's SummaryMap as the account row (root MFA, root keys, counts)."""
    row: Row = {"account_id": account_id, "aliases": list(aliases)}
    for key, value in summary.items():
        column = pascal_to_snake(str(key))
        if column in _SUMMARY_BOOLS:
            row[column] = bool(value)
        elif ACCOUNTS.has_column(column):
            row[column] = int(value)
    return row


def fetch_password_policy(ctx: SessionContext, region: str | None) -> Rows:
    """The account password policy (a `policy_exists = false` row when none is set)."""
    del region
    try:
        policy = ctx.client("iam").get_account_password_policy().get("PasswordPolicy")
    except ClientError as err:
        if error_code(err) != "NoSuchEntity":
            raise
        policy = None
    return {PASSWORD_POLICIES: [transform_password_policy(ctx.account_id, policy)]}


def fetch_credential_report(ctx: SessionContext, region: str | None) -> Rows:
    """Generates the credential report (polling briefly) and loads its rows."""
    del region
    iam = ctx.client("iam")
    for _ in range(_REPORT_POLL_ATTEMPTS):
        if iam.generate_credential_report().get("State") == "COMPLETE":
            break
        time.sleep(_REPORT_POLL_SECONDS)
    content = iam.get_credential_report()["Content"]
    return {CREDENTIAL_REPORTS: parse_credential_report(content)}


def fetch_account_summary(ctx: SessionContext, region: str | None) -> Rows:
    """IAM account summary (root MFA and root access keys live here) and aliases."""
    del region
    iam = ctx.client("iam")
    summary = iam.get_account_summary().get("SummaryMap", {})
    aliases = iam.list_account_aliases().get("AccountAliases", [])
    return {ACCOUNTS: [transform_account_summary(ctx.account_id, summary, aliases)]}


for _resource in (
    Resource(
        name="iam.password_policy",
        service="iam",
        tables=(PASSWORD_POLICIES,),
        permissions=("iam:GetAccountPasswordPolicy",),
        fetch=fetch_password_policy,
        global_service=True,
        description="The account password policy.",
    ),
    Resource(
        name="iam.credential_report",
        service="iam",
        tables=(CREDENTIAL_REPORTS,),
        permissions=("iam:GenerateCredentialReport", "iam:GetCredentialReport"),
        fetch=fetch_credential_report,
        global_service=True,
        description="The IAM credential report, root user included.",
    ),
    Resource(
        name="iam.account",
        service="iam",
        tables=(ACCOUNTS,),
        permissions=("iam:GetAccountSummary", "iam:ListAccountAliases"),
        fetch=fetch_account_summary,
        global_service=True,
        description="IAM account summary: root MFA, root access keys, quotas.",
    ),
):
    register(_resource)
