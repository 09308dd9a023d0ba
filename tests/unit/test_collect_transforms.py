"""Pure collector transforms: no network, no emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from opencwpp.collect.aws.ec2 import SECURITY_GROUP_RULES, transform_security_group
from opencwpp.collect.aws.iam_account import (
    parse_credential_report,
    pascal_to_snake,
    transform_account_summary,
    transform_password_policy,
)
from opencwpp.collect.aws.s3 import normalize_bucket_region, transform_account
from opencwpp.collect.aws.session import (
    AwsContext,
    _strip_account_host_prefix,
    credentials_error,
)
from opencwpp.collect.base import (
    not_assessed_reason,
    optional,
    policy_document,
    tags_dict,
)
from opencwpp.core.errors import CredentialsError, UsageError

REPORT = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
    "<root_account>,arn:aws:iam::000000000000:root,2020-01-01T00:00:00+00:00,not_supported,"
    "2024-05-01T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,"
    "N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    "alice,arn:aws:iam::000000000000:user/alice,2023-02-03T04:05:06Z,true,no_information,"
    "2023-02-03T04:05:06+00:00,N/A,false,true,2023-02-03T04:05:06+00:00,"
    "2024-01-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
)


def _client_error(code: str, status: int, op: str = "GetThing") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        op,
    )


def test_credential_report_parsing() -> None:
    root, alice = parse_credential_report(REPORT.encode())
    assert root["user"] == "<root_account>"
    assert root["arn"] == "arn:aws:iam::000000000000:root"
    assert root["password_enabled"] is None  # not_supported
    assert root["mfa_active"] is True
    assert root["access_key1_active"] is False
    assert root["access_key_1_last_rotated"] is None  # N/A
    assert root["password_last_used"] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert alice["user_creation_time"] == datetime(2023, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert alice["password_enabled"] == "true"
    assert alice["password_last_used"] is None  # no_information
    assert alice["access_key1_last_used_region"] == "us-east-1"
    assert alice["access_key1_last_used_service"] == "s3"
    assert "access_key_1_active" not in alice  # renamed to CloudQuery's column


def _sg(permissions: list[dict[str, object]], egress: list[dict[str, object]]) -> dict[str, object]:
    return {
        "GroupId": "sg-1",
        "GroupName": "web",
        "OwnerId": "000000000000",
        "VpcId": "vpc-1",
        "Description": "d",
        "IpPermissions": permissions,
        "IpPermissionsEgress": egress,
        "Tags": [{"Key": "Name", "Value": "<b>x</b>"}],
    }


def test_security_group_rules_explode_one_row_per_target() -> None:
    sg = _sg(
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [
                    {"CidrIp": "0.0.0.0/0", "Description": "ssh"},
                    {"CidrIp": "10.0.0.0/8"},
                ],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
                "UserIdGroupPairs": [{"GroupId": "sg-2", "UserId": "000000000000"}],
                "PrefixListIds": [{"PrefixListId": "pl-1"}],
            }
        ],
        [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    out = transform_security_group("000000000000", "eu-west-1", sg)
    (group,) = out[next(t for t in out if t.name == "aws_ec2_security_groups")]
    assert group["arn"] == "arn:aws:ec2:eu-west-1:000000000000:security-group/sg-1"
    assert group["tags"] == {"Name": "<b>x</b>"}
    rules = out[SECURITY_GROUP_RULES]
    ingress = [r for r in rules if r["direction"] == "ingress"]
    assert len(ingress) == 5
    assert {r["cidr_ipv4"] for r in ingress} == {"0.0.0.0/0", "10.0.0.0/8", None}
    assert [r["cidr_ipv6"] for r in ingress if r["cidr_ipv6"]] == ["::/0"]
    assert [r["referenced_group_id"] for r in ingress if r["referenced_group_id"]] == ["sg-2"]
    assert [r["prefix_list_id"] for r in ingress if r["prefix_list_id"]] == ["pl-1"]
    assert all(r["from_port"] == 22 and r["to_port"] == 22 for r in ingress)
    assert all(r["_cq_parent_id"] == group["_cq_id"] for r in rules)
    (egress,) = [r for r in rules if r["direction"] == "egress"]
    assert egress["ip_protocol"] == "-1"
    assert egress["from_port"] is None and egress["to_port"] is None
    assert len({r["_cq_id"] for r in rules}) == len(rules)


@pytest.mark.parametrize(
    ("location", "region"),
    [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"), ("eu-west-2", "eu-west-2")],
)
def test_bucket_region_normalisation(location: str | None, region: str) -> None:
    assert normalize_bucket_region(location) == region


def test_account_public_access_block_absent_is_all_false() -> None:
    row = transform_account("1", None)
    assert row["config_exists"] is False
    assert row["block_public_acls"] is False and row["restrict_public_buckets"] is False
    row = transform_account("1", {"BlockPublicAcls": True, "IgnorePublicAcls": True})
    assert row["config_exists"] and row["block_public_acls"] and not row["block_public_policy"]


def test_password_policy_and_account_summary() -> None:
    missing = transform_password_policy("1", None)
    assert missing["policy_exists"] is False and missing["minimum_password_length"] is None
    weak = transform_password_policy("1", {"MinimumPasswordLength": 6, "RequireSymbols": False})
    assert weak["policy_exists"] and weak["minimum_password_length"] == 6
    assert weak["require_symbols"] is False
    assert pascal_to_snake("AccountMFAEnabled") == "account_mfa_enabled"
    assert pascal_to_snake("MFADevicesInUse") == "mfa_devices_in_use"
    row = transform_account_summary(
        "1", {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1, "Users": 3, "Roles": 2}, []
    )
    assert row["account_mfa_enabled"] is False and row["account_access_keys_present"] is True
    assert row["users"] == 3 and "roles" not in row  # not a CloudQuery column


def test_policy_documents_are_url_decoded() -> None:
    encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%7D%5D%7D"
    assert policy_document(encoded) == {"Statement": [{"Effect": "Allow"}]}
    assert policy_document('{"Version": "2012-10-17"}') == {"Version": "2012-10-17"}
    assert policy_document({"a": 1}) == {"a": 1}
    assert policy_document("not json") is None
    assert tags_dict(None) == {} and tags_dict([{"Key": "k", "Value": "v"}]) == {"k": "v"}


def test_expected_errors_are_an_allow_list() -> None:
    assert "AccessDenied" in (not_assessed_reason(_client_error("AccessDenied", 403)) or "")
    assert not_assessed_reason(_client_error("UnauthorizedOperation", 403))
    assert not_assessed_reason(_client_error("OptInRequired", 403))
    assert "not available" in (not_assessed_reason(_client_error("500", 500)) or "")
    assert not_assessed_reason(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert not_assessed_reason(_client_error("ValidationError", 400)) is None
    assert not_assessed_reason(_client_error("NoSuchEntity", 404)) is None
    assert not_assessed_reason(ValueError("x")) is None


def test_optional_returns_none_only_for_absent_configuration() -> None:
    def absent(**_: object) -> dict[str, object]:
        raise _client_error("NoSuchBucketPolicy", 404)

    def denied(**_: object) -> dict[str, object]:
        raise _client_error("AccessDenied", 403)

    assert optional(absent, Bucket="b") is None
    with pytest.raises(ClientError):
        optional(denied, Bucket="b")


def test_credentials_errors_are_one_line_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    err = credentials_error(_client_error("ExpiredToken", 403))
    assert isinstance(err, CredentialsError) and "aws sso login" in str(err)
    assert credentials_error(_client_error("AccessDenied", 403)) is None
    empty = tmp_path / "config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    with pytest.raises(CredentialsError, match="AWS_PROFILE"):
        AwsContext.create(profile="no-such-profile-cwpp")


def test_unknown_region_is_a_usage_error() -> None:
    ctx = AwsContext.create(region="us-east-1")
    assert ctx.validate_regions(["eu-west-1", "af-south-1", "eu-west-1"]) == [
        "eu-west-1",
        "af-south-1",
    ]
    with pytest.raises(UsageError, match="mars-north-1"):
        ctx.validate_regions(["mars-north-1"])


def test_s3_control_host_prefix_is_stripped() -> None:
    handler = _strip_account_host_prefix("123456789012")
    request = SimpleNamespace(url="http://123456789012.127.0.0.1:5000/v20180820/configuration")
    handler(request)
    assert request.url == "http://127.0.0.1:5000/v20180820/configuration"
    other = SimpleNamespace(url="https://s3-control.us-east-1.amazonaws.com/x")
    handler(other)
    assert other.url == "https://s3-control.us-east-1.amazonaws.com/x"


def test_role_trust_policy_is_split_into_statement_rows() -> None:
    from opencwpp.collect.aws.iam_principals import transform_principal
    from opencwpp.collect.aws.policies import STATEMENT_VALUES, STATEMENTS

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = {
        "Arn": "arn:aws:iam::111122223333:role/deploy",
        "RoleName": "deploy",
        "AssumeRolePolicyDocument": trust,
    }
    rows = transform_principal("111122223333", "role", role, [], {})
    (statement,) = rows[STATEMENTS]
    assert statement["source_table"] == "aws_iam_roles"
    assert statement["policy_name"] == "AssumeRolePolicyDocument"
    principals = [v for v in rows[STATEMENT_VALUES] if v["element"] == "Principal"]
    assert [(v["principal_type"], v["value"]) for v in principals] == [
        ("AWS", "arn:aws:iam::999988887777:root")
    ]
    # Groups have no trust policy.
    group = {"Arn": "arn:aws:iam::111122223333:group/ops", "GroupName": "ops"}
    assert not transform_principal("111122223333", "group", group, [], {}).get(STATEMENTS)


def test_a_policy_listing_a_value_twice_gives_one_row_per_value() -> None:
    from opencwpp.collect.aws.policies import STATEMENT_CONDITIONS, STATEMENT_VALUES, split_policy

    # AWS's own ReadOnlyAccess lists some actions twice; the split must still load.
    doc = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObject", "sqs:ListQueues"],
                "Principal": {"AWS": ["arn:aws:iam::1:root", "arn:aws:iam::1:root"]},
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": ["1", "1"]}},
            }
        ]
    }
    rows = split_policy(doc, account_id="1", source_table="t", source_arn="arn:x")
    values = [(r["element"], r["value"]) for r in rows[STATEMENT_VALUES]]
    assert values == [
        ("Action", "s3:GetObject"),
        ("Action", "sqs:ListQueues"),
        ("Resource", "*"),
        ("Principal", "arn:aws:iam::1:root"),
    ]
    assert [r["value"] for r in rows[STATEMENT_CONDITIONS]] == ["1"]


def test_ebs_default_encryption_is_known_even_when_the_default_key_is_not() -> None:
    from opencwpp.collect.aws.ebs import REGIONAL_CONFIGS, fetch_regional_config

    def unavailable(**_: object) -> dict[str, object]:
        error = {"Error": {"Code": "InternalError", "Message": "not implemented"}}
        raise ClientError({**error, "ResponseMetadata": {"HTTPStatusCode": 500}}, "GetKey")

    ec2 = SimpleNamespace(
        get_ebs_encryption_by_default=lambda: {"EbsEncryptionByDefault": True},
        get_ebs_default_kms_key_id=unavailable,
    )
    ctx = SimpleNamespace(account_id="000000000000", client=lambda service, region: ec2)
    (row,) = fetch_regional_config(ctx, "eu-west-1")[REGIONAL_CONFIGS]  # type: ignore[arg-type]
    assert row["ebs_encryption_enabled_by_default"] is True
    assert row["ebs_default_kms_key_id"] is None
