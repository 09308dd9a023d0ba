"""Pure transforms of the data-store, compute and network collectors: no network."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from opencwpp.collect.aws._shape import coerce, columns, pascal_keys, shape, snake, tags_of
from opencwpp.collect.aws.cloudtrail import log_group_name
from opencwpp.collect.aws.ebs import (
    REGIONAL_CONFIGS,
    SNAPSHOT_ATTRIBUTES,
    SNAPSHOTS,
    fetch_regional_config,
    transform_snapshot,
)
from opencwpp.collect.aws.ec2_instances import reason_time
from opencwpp.collect.aws.ec2_network import KINDS, SUBNETS, transform
from opencwpp.collect.aws.ecr import REPOSITORIES
from opencwpp.collect.aws.kms import KEY_POLICIES, KEYS, transform_key
from opencwpp.collect.aws.policies import STATEMENT_VALUES
from opencwpp.collect.aws.rds import restore_attributes
from opencwpp.collect.aws.sqs import QUEUES, transform_queue
from opencwpp.collect.aws.ssm import PARAMETERS_RESOURCE
from opencwpp.collect.base import load_resources
from opencwpp.lake.schema import BOOL, INT64, JSON, LIST_UTF8, TIMESTAMP, UTF8, table

ACCOUNT = "000000000000"
REGION = "eu-west-1"


def test_snake_matches_cloudquery_column_names() -> None:
    assert snake("DBInstanceArn") == "db_instance_arn"
    assert snake("MultiAZ") == "multi_az"
    assert snake("IAMDatabaseAuthenticationEnabled") == "iam_database_authentication_enabled"
    assert snake("SnsTopicARN") == "sns_topic_arn"
    assert snake("S3BucketName") == "s3_bucket_name"
    assert snake("repositoryUri") == "repository_uri"


def test_coerce_to_arrow_types() -> None:
    assert coerce("true", BOOL) is True and coerce("false", BOOL) is False
    assert coerce("42", INT64) == 42 and coerce("17.9", INT64) == 17
    assert coerce('{"a": 1}', JSON) == {"a": 1}
    assert coerce("x", LIST_UTF8) == ["x"]
    assert coerce({"a": 1}, UTF8) == '{"a": 1}'
    assert coerce("2024-01-02T03:04:05+00:00", TIMESTAMP) == datetime(
        2024, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert coerce(None, INT64) is None


def test_shape_maps_fields_renames_tags_and_pascal_json() -> None:
    tbl = table("t", columns("account_id name:int tags:json scan:json other"))
    raw = {"Name": "7", "Tags": [{"Key": "k", "Value": "v"}], "Scan": {"scanOnPush": True}, "X": 1}
    row = shape(tbl, raw, renames={"other": "X"}, pascal_json=True, account_id=ACCOUNT)
    assert row == {
        "account_id": ACCOUNT,
        "name": 7,
        "tags": {"k": "v"},
        "scan": {"ScanOnPush": True},
        "other": "1",
    }
    assert tags_of([{"TagKey": "a", "TagValue": "b"}]) == {"a": "b"}
    assert tags_of(None) == {}
    assert pascal_keys([{"a": {"bC": 1}}]) == [{"A": {"BC": 1}}]


def test_public_snapshot_keeps_its_create_volume_permission() -> None:
    snap = {"SnapshotId": "snap-1", "Encrypted": False, "VolumeSize": 8, "Tags": []}
    attribute = {"CreateVolumePermissions": [{"Group": "all"}], "ProductCodes": []}
    rows = transform_snapshot(ACCOUNT, REGION, snap, attribute)
    parent = rows[SNAPSHOTS][0]
    child = rows[SNAPSHOT_ATTRIBUTES][0]
    assert parent["arn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:snapshot/snap-1"
    assert child["_cq_parent_id"] == parent["_cq_id"]
    assert child["create_volume_permissions"] == [{"Group": "all"}]
    private = transform_snapshot(ACCOUNT, REGION, snap, {"CreateVolumePermissions": []})
    assert private[SNAPSHOT_ATTRIBUTES][0]["create_volume_permissions"] == []


class _FakeEc2:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.calls: list[str] = []

    def get_ebs_encryption_by_default(self) -> dict[str, Any]:
        self.calls.append("by_default")
        return {"EbsEncryptionByDefault": self.enabled}

    def get_ebs_default_kms_key_id(self) -> dict[str, Any]:
        self.calls.append("key")
        return {"KmsKeyId": "alias/aws/ebs"}


def test_regional_config_reads_the_default_key_only_when_encryption_is_on() -> None:
    for enabled, key in ((True, "alias/aws/ebs"), (False, None)):
        ec2 = _FakeEc2(enabled)
        ctx = SimpleNamespace(account_id=ACCOUNT, client=lambda *_a, _e=ec2: _e)
        row = fetch_regional_config(ctx, REGION)[REGIONAL_CONFIGS][0]
        assert row["ebs_encryption_enabled_by_default"] is enabled
        assert row["ebs_default_kms_key_id"] == key


def test_kms_key_policy_is_split_and_rotation_kept() -> None:
    metadata = {"Arn": "arn:aws:kms:eu-west-1:0:key/k", "KeyId": "k", "KeyManager": "CUSTOMER"}
    policy = '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*"}]}'
    details = {"rotation_enabled": False, "tags": {}, "policies": {"default": policy}, "grants": []}
    rows = transform_key(ACCOUNT, REGION, metadata, details)
    assert rows[KEYS][0]["rotation_enabled"] is False
    assert rows[KEY_POLICIES][0]["policy"]["Statement"][0]["Action"] == "kms:*"
    principals = [v for v in rows[STATEMENT_VALUES] if v["element"] == "Principal"]
    assert [(p["source_table"], p["value"]) for p in principals] == [("aws_kms_key_policies", "*")]


def test_rds_restore_attributes_of_both_kinds() -> None:
    restore = [{"AttributeName": "restore", "AttributeValues": ["all"]}]
    assert (
        restore_attributes({"DBSnapshotAttributesResult": {"DBSnapshotAttributes": restore}})
        == restore
    )
    cluster = {"DBClusterSnapshotAttributesResult": {"DBClusterSnapshotAttributes": restore}}
    assert restore_attributes(cluster) == restore
    assert restore_attributes({}) == []


def test_sqs_attributes_typed_and_unknown_kept() -> None:
    attributes = {
        "QueueArn": "arn:aws:sqs:eu-west-1:0:q",
        "SqsManagedSseEnabled": "true",
        "VisibilityTimeout": "30",
        "SomethingNew": "x",
    }
    row = transform_queue(ACCOUNT, REGION, "https://q", attributes, {"a": "b"})[QUEUES][0]
    assert row["sqs_managed_sse_enabled"] is True
    assert row["visibility_timeout"] == 30
    assert row["unknown_fields"] == {"SomethingNew": "x"}
    assert row["tags"] == {"a": "b"}


def test_subnets_use_request_account_and_region_columns() -> None:
    row = transform(KINDS["ec2.subnets"], ACCOUNT, REGION, {"SubnetId": "subnet-1", "OwnerId": "1"})
    assert row["request_account_id"] == ACCOUNT and row["request_region"] == REGION
    assert row["arn"] == f"arn:aws:ec2:{REGION}:1:subnet/subnet-1"
    assert "account_id" not in row and SUBNETS.cq_id_from[0] == "request_account_id"


def test_small_parsers() -> None:
    assert reason_time("User initiated (2024-01-02 03:04:05 GMT)") == datetime(
        2024, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert reason_time("") is None
    assert log_group_name("arn:aws:logs:r:1:log-group:trail-logs:*") == "trail-logs"
    assert log_group_name(None) is None


def test_permissions_are_read_only_and_secret_values_are_never_requested() -> None:
    resources = [*load_resources(), PARAMETERS_RESOURCE]
    permissions = {p for r in resources for p in r.permissions}
    assert "secretsmanager:GetSecretValue" not in permissions
    assert not {p for p in permissions if p.startswith(("ssm:GetParameter",))}
    assert REPOSITORIES.name in {t.name for r in resources for t in r.tables}
