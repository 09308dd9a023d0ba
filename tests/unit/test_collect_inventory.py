"""Pure transforms of the data-store, compute and network collectors: no network."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from opencwpp.collect.aws._shape import coerce, columns, pascal_keys, shape, snake, tags_of
from opencwpp.collect.aws._shares import RESOURCE_SHARES, rds_shares
from opencwpp.collect.aws.cloudtrail import SELECTOR_FIELDS, log_group_name, transform_trail
from opencwpp.collect.aws.ebs import (
    REGIONAL_CONFIGS,
    SNAPSHOT_ATTRIBUTES,
    SNAPSHOTS,
    fetch_regional_config,
    transform_snapshot,
)
from opencwpp.collect.aws.ec2_instances import (
    INSTANCE_SECURITY_GROUPS,
    reason_time,
    transform_instance,
)
from opencwpp.collect.aws.ec2_instances import INSTANCES as INSTANCES_EC2
from opencwpp.collect.aws.ec2_network import (
    KINDS,
    NETWORK_ACL_ENTRIES,
    SUBNETS,
    network_acl_entries,
    transform,
)
from opencwpp.collect.aws.ecr import REPOSITORIES
from opencwpp.collect.aws.kms import KEY_POLICIES, KEYS, transform_key
from opencwpp.collect.aws.policies import STATEMENT_VALUES
from opencwpp.collect.aws.rds import (
    CLUSTER_SNAPSHOTS,
    INSTANCES,
    derive,
    restore_attributes,
)
from opencwpp.collect.aws.rds import INSTANCE_SECURITY_GROUPS as RDS_SECURITY_GROUPS
from opencwpp.collect.aws.rds import transform as rds_transform
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


def test_ebs_snapshot_grantees_become_share_rows() -> None:
    snap = {"SnapshotId": "snap-2"}
    perms = [{"Group": None, "UserId": "222233334444"}, {"Group": "all", "UserId": None}]
    rows = transform_snapshot(ACCOUNT, REGION, snap, {"CreateVolumePermissions": perms})
    shares = rows[RESOURCE_SHARES]
    assert sorted((r["grantee_type"], r["grantee"]) for r in shares) == [
        ("account", "222233334444"),
        ("group", "all"),
    ]
    parent = rows[SNAPSHOTS][0]
    assert {r["source_table"] for r in shares} == {"aws_ec2_ebs_snapshots"}
    assert {r["resource_arn"] for r in shares} == {parent["arn"]}
    assert {r["attribute"] for r in shares} == {"createVolumePermission"}
    assert all(r["_cq_parent_id"] == parent["_cq_id"] for r in shares)
    assert len({r["_cq_id"] for r in shares}) == 2
    assert transform_snapshot(ACCOUNT, REGION, snap, None)[RESOURCE_SHARES] == []


def test_rds_restore_values_become_share_rows_and_groups_rows() -> None:
    attributes = [
        {"AttributeName": "restore", "AttributeValues": ["111122223333", "all"]},
        {"AttributeName": "other", "AttributeValues": ["444455556666"]},
    ]
    item = {"DBClusterSnapshotArn": "arn:aws:rds:eu-west-1:0:cluster-snapshot:s"}
    row = rds_transform(
        CLUSTER_SNAPSHOTS, ACCOUNT, REGION, item, "DBClusterSnapshotArn", attributes
    )
    shares = derive(CLUSTER_SNAPSHOTS, row)[RESOURCE_SHARES]
    assert sorted((r["attribute"], r["grantee_type"], r["grantee"]) for r in shares) == [
        ("restore", "account", "111122223333"),
        ("restore", "group", "all"),
    ]
    assert {r["source_table"] for r in shares} == {"aws_rds_cluster_snapshots"}
    assert rds_shares(row, "t", None) == []
    db = {
        "DBInstanceArn": "arn:aws:rds:eu-west-1:0:db:d",
        "VpcSecurityGroups": [
            {"VpcSecurityGroupId": "sg-1", "Status": "active"},
            {"VpcSecurityGroupId": "sg-2", "Status": "inactive"},
        ],
    }
    instance = rds_transform(INSTANCES, ACCOUNT, REGION, db, "DBInstanceArn")
    groups = derive(INSTANCES, instance)[RDS_SECURITY_GROUPS]
    assert [(g["db_instance_arn"], g["group_id"], g["status"]) for g in groups] == [
        (db["DBInstanceArn"], "sg-1", "active"),
        (db["DBInstanceArn"], "sg-2", "inactive"),
    ]


def test_instance_security_groups_from_instance_and_interfaces() -> None:
    instance = {
        "InstanceId": "i-1",
        "SecurityGroups": [{"GroupId": "sg-a", "GroupName": "a"}],
        "NetworkInterfaces": [
            {"NetworkInterfaceId": "eni-1", "Groups": [{"GroupId": "sg-a"}, {"GroupId": "sg-b"}]},
            {"NetworkInterfaceId": "eni-2", "Groups": []},
        ],
    }
    rows = transform_instance(ACCOUNT, REGION, instance, None)
    groups = rows[INSTANCE_SECURITY_GROUPS]
    assert [(g["network_interface_id"], g["group_id"]) for g in groups] == [
        (None, "sg-a"),
        ("eni-1", "sg-a"),
        ("eni-1", "sg-b"),
    ]
    assert {g["instance_arn"] for g in groups} == {rows[INSTANCES_EC2][0]["arn"]}
    assert {g["instance_id"] for g in groups} == {"i-1"}
    assert (
        transform_instance(ACCOUNT, REGION, {"InstanceId": "i-2"}, None)[INSTANCE_SECURITY_GROUPS]
        == []
    )


def test_network_acl_entries_one_row_per_rule_ports_null_for_all_traffic() -> None:
    nacl = {
        "NetworkAclId": "acl-1",
        "VpcId": "vpc-1",
        "Entries": [
            {
                "RuleNumber": 32767,
                "Protocol": "-1",
                "RuleAction": "deny",
                "Egress": False,
                "CidrBlock": "0.0.0.0/0",
            },
            {
                "RuleNumber": 100,
                "Protocol": "6",
                "RuleAction": "allow",
                "Egress": False,
                "CidrBlock": "0.0.0.0/0",
                "PortRange": {"From": 22, "To": 22},
            },
            {
                "RuleNumber": 100,
                "Protocol": "-1",
                "RuleAction": "allow",
                "Egress": True,
                "Ipv6CidrBlock": "::/0",
            },
        ],
    }
    row = transform(KINDS["ec2.network_acls"], ACCOUNT, REGION, nacl)
    entries = network_acl_entries(row)[NETWORK_ACL_ENTRIES]
    got = [
        (
            e["egress"],
            e["rule_number"],
            e["protocol"],
            e["from_port"],
            e["to_port"],
            e["rule_action"],
            e["cidr_ipv4"],
            e["cidr_ipv6"],
        )
        for e in entries
    ]
    assert got == [
        (False, 100, "6", 22, 22, "allow", "0.0.0.0/0", None),
        (False, 32767, "-1", None, None, "deny", "0.0.0.0/0", None),
        (True, 100, "-1", None, None, "allow", None, "::/0"),
    ]
    assert {e["network_acl_arn"] for e in entries} == {row["arn"]}
    assert {(e["network_acl_id"], e["vpc_id"]) for e in entries} == {("acl-1", "vpc-1")}
    assert len({e["_cq_id"] for e in entries}) == 3


def _fields(selectors: dict[str, Any]) -> set[tuple[int, str, str, str, str]]:
    trail = {"TrailARN": "arn:aws:cloudtrail:eu-west-1:0:trail/t", "Name": "t"}
    rows = transform_trail(ACCOUNT, REGION, {"trail": trail, "selectors": selectors})
    return {
        (r["selector_index"], r["kind"], r["field"], r["operator"], r["value"])
        for r in rows[SELECTOR_FIELDS]
    }


_B = "arn:aws:s3:::b/"


def test_cloudtrail_selectors_become_field_rows() -> None:
    basic = {
        "EventSelectors": [
            {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []},
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": False,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            },
        ]
    }
    assert _fields(basic) == {
        (0, "basic", "readOnly", "Equals", "true"),
        (0, "basic", "readOnly", "Equals", "false"),
        (0, "basic", "eventCategory", "Equals", "Management"),
        (1, "basic", "readOnly", "Equals", "false"),
        (1, "basic", "resources.type", "Equals", "AWS::S3::Object"),
        (1, "basic", "resources.ARN", "StartsWith", "arn:aws:s3"),
    }
    readonly = {"EventSelectors": [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]}
    assert ("readOnly", "Equals", "false") not in {f[2:] for f in _fields(readonly)}
    advanced = {
        "AdvancedEventSelectors": [
            {"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
            {
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {
                        "Field": "resources.ARN",
                        "NotStartsWith": ["arn:aws:s3:::a/", "arn:aws:s3:::b/"],
                    },
                ]
            },
        ]
    }
    assert _fields(advanced) == {
        (0, "advanced", "eventCategory", "Equals", "Management"),
        (1, "advanced", "eventCategory", "Equals", "Data"),
        (1, "advanced", "resources.type", "Equals", "AWS::S3::Object"),
        (1, "advanced", "resources.ARN", "NotStartsWith", "arn:aws:s3:::a/"),
        (1, "advanced", "resources.ARN", "NotStartsWith", "arn:aws:s3:::b/"),
    }
    assert _fields({}) == set()


def test_trail_and_load_balancer_tags_are_flat_objects_as_cloudquery_has_them() -> None:
    from opencwpp.collect.aws.cloudtrail import TRAILS
    from opencwpp.collect.aws.elbv2 import LISTENERS, LOAD_BALANCERS, transform_load_balancer

    tags = [{"Key": "team", "Value": "<img src=x>"}]
    trail = {"TrailARN": "arn:aws:cloudtrail:eu-west-1:0:trail/t", "Name": "t"}
    rows = transform_trail(ACCOUNT, REGION, {"trail": trail, "selectors": {}, "tags": tags})
    assert rows[TRAILS][0]["tags"] == {"team": "<img src=x>"}
    lb_arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/a/1"
    listener = {"ListenerArn": f"{lb_arn}/l1", "Port": 80, "Protocol": "HTTP"}
    details = {
        "load_balancer": {"LoadBalancerArn": lb_arn, "LoadBalancerName": "a"},
        "listeners": [listener],
        "tags": {lb_arn: tags, listener["ListenerArn"]: tags},
    }
    out = transform_load_balancer(ACCOUNT, REGION, details)
    assert out[LOAD_BALANCERS][0]["tags"] == {"team": "<img src=x>"}
    assert out[LISTENERS][0]["tags"] == {"team": "<img src=x>"}
