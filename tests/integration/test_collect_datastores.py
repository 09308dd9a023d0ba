"""Data stores and encryption over HTTP against moto: EBS, KMS, RDS, DynamoDB, Secrets Manager,
SSM, SNS, SQS, EFS round-trip into the lake on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.aws.ssm import PARAMETERS_RESOURCE
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import SyncReport, sync_aws
from opencwpp.lake.lake import Lake

REGION = "us-east-1"
SERVICES = ("ec2.ebs_", "ec2.regional_configs", "kms.", "rds.", "dynamodb.", "secretsmanager.")
SERVICES += ("sns.", "sqs.", "efs.")
PLANTED_SECRET = "s3cr3t-Value-That-Must-Never-Be-Stored-9f8e7d"


@dataclass
class Estate:
    """What the module's moto estate holds, for the assertions."""

    ids: dict[str, str] = field(default_factory=dict)


def _public(action: str, resource: str) -> str:
    statement = {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _build(endpoint: str) -> Estate:
    s = boto3.Session(region_name=REGION)
    c = {n: s.client(n, endpoint_url=endpoint) for n in ("ec2", "kms", "rds", "dynamodb")}
    c |= {n: s.client(n, endpoint_url=endpoint) for n in ("secretsmanager", "ssm", "sns", "sqs")}
    c["efs"] = s.client("efs", endpoint_url=endpoint)
    e = Estate()
    ec2 = c["ec2"]
    plain = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    enc = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=True)["VolumeId"]
    public = ec2.create_snapshot(VolumeId=plain)["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=public,
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )
    private = ec2.create_snapshot(VolumeId=enc)["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=private,
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=["111122223333"],
    )
    e.ids["db_sg"] = ec2.create_security_group(GroupName="db", Description="db")["GroupId"]
    e.ids |= {
        "plain_volume": plain,
        "enc_volume": enc,
        "public_snap": public,
        "private_snap": private,
    }
    kms = c["kms"]
    rotated = kms.create_key(Description="rotated")["KeyMetadata"]
    kms.enable_key_rotation(KeyId=rotated["KeyId"])
    open_key = kms.create_key(
        Description="open", Policy=_public("kms:*", "*"), Tags=[{"TagKey": "env", "TagValue": "p"}]
    )["KeyMetadata"]
    kms.create_alias(AliasName="alias/open-key", TargetKeyId=open_key["KeyId"])
    kms.create_grant(
        KeyId=open_key["KeyId"],
        GranteePrincipal="arn:aws:iam::123456789012:role/app",
        Operations=["Decrypt"],
    )
    e.ids |= {"rotated_key": rotated["Arn"], "open_key": open_key["Arn"]}
    rds = c["rds"]
    db = rds.create_db_instance(
        DBInstanceIdentifier="db-public",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword=PLANTED_SECRET,
        PubliclyAccessible=True,
        AllocatedStorage=20,
        VpcSecurityGroupIds=[e.ids["db_sg"]],
    )["DBInstance"]
    snap = rds.create_db_snapshot(DBInstanceIdentifier="db-public", DBSnapshotIdentifier="snap-pub")
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="snap-pub",
        AttributeName="restore",
        ValuesToAdd=["all", "444455556666"],
    )
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="aurora-1",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword=PLANTED_SECRET,
        StorageEncrypted=True,
    )["DBCluster"]
    rds.create_db_cluster_snapshot(
        DBClusterIdentifier="aurora-1", DBClusterSnapshotIdentifier="csnap-1"
    )
    e.ids |= {"db": db["DBInstanceArn"], "db_snap": snap["DBSnapshot"]["DBSnapshotArn"]}
    e.ids |= {"cluster": cluster["DBClusterArn"]}
    ddb = c["dynamodb"]
    for name in ("orders", "audit"):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    ddb.update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    sm = c["secretsmanager"]
    secret = sm.create_secret(Name="prod/db", SecretString=PLANTED_SECRET)["ARN"]
    sm.put_resource_policy(SecretId=secret, ResourcePolicy=_public("secretsmanager:*", "*"))
    e.ids["secret"] = secret
    ssm = c["ssm"]
    ssm.put_parameter(Name="/app/db_password", Value=PLANTED_SECRET, Type="String")
    ssm.put_parameter(Name="/app/api_key", Value=PLANTED_SECRET, Type="SecureString")
    topic = c["sns"].create_topic(Name="alerts")["TopicArn"]
    c["sns"].set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=_public("sns:Publish", topic)
    )
    e.ids["topic"] = topic
    url = c["sqs"].create_queue(QueueName="jobs", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})
    e.ids["queue_url"] = url["QueueUrl"]
    fs = c["efs"].create_file_system(CreationToken="fs-1", Encrypted=False)
    c["efs"].put_file_system_policy(
        FileSystemId=fs["FileSystemId"], Policy=_public("elasticfilesystem:*", fs["FileSystemArn"])
    )
    e.ids["fs"] = fs["FileSystemArn"]
    return e


@pytest.fixture(scope="module")
def estate(moto_endpoint: str) -> Estate:
    return _build(moto_endpoint)


def _mine() -> list[Any]:
    return [r for r in load_resources() if r.name.startswith(SERVICES)] + [PARAMETERS_RESOURCE]


def _sync(lake: Lake, endpoint: str) -> SyncReport:
    ctx = AwsContext.create(endpoint_url=endpoint, region=REGION)
    return sync_aws(lake, ctx, [REGION], resources=_mine())


def _rows(lake: Lake, sql: str, *params: Any) -> list[dict[str, Any]]:
    return lake.query(sql, params)


def test_datastores_round_trip(lake: Lake, moto_endpoint: str, estate: Estate) -> None:
    report = _sync(lake, moto_endpoint)
    assert not report.not_assessed, report.not_assessed
    ids = estate.ids
    volumes = {
        r["volume_id"]: r
        for r in _rows(
            lake, "SELECT volume_id, encrypted, arn FROM aws_ec2_ebs_volumes WHERE 1 = ?", 1
        )
    }
    assert volumes[ids["plain_volume"]]["encrypted"] is False
    assert volumes[ids["enc_volume"]]["encrypted"] is True
    perms = {
        r["snapshot_id"]: r["create_volume_permissions"]
        for r in _rows(
            lake,
            "SELECT snapshot_id, create_volume_permissions FROM aws_ec2_ebs_snapshot_attributes "
            "WHERE 1 = ?",
            1,
        )
    }
    assert "all" in str(perms[ids["public_snap"]])
    assert "all" not in str(perms[ids["private_snap"]])
    cfg = _rows(
        lake,
        "SELECT ebs_encryption_enabled_by_default AS on_ FROM aws_ec2_regional_configs "
        "WHERE region = ?",
        REGION,
    )
    assert cfg == [{"on_": False}]
    keys = {
        r["arn"]: r
        for r in _rows(lake, "SELECT arn, rotation_enabled, tags FROM aws_kms_keys WHERE 1 = ?", 1)
    }
    assert keys[ids["rotated_key"]]["rotation_enabled"] is True
    assert keys[ids["open_key"]]["rotation_enabled"] is False
    assert "env" in str(keys[ids["open_key"]]["tags"])
    star = _rows(
        lake,
        "SELECT value FROM cwpp_aws_policy_statement_values WHERE source_table = ? "
        "AND source_arn = ? AND element = ?",
        "aws_kms_key_policies",
        ids["open_key"],
        "Principal",
    )
    assert star == [{"value": "*"}]
    grants = _rows(
        lake, "SELECT key_arn FROM aws_kms_key_grants WHERE key_arn = ?", ids["open_key"]
    )
    assert len(grants) == 1
    aliases = _rows(
        lake, "SELECT target_key_id FROM aws_kms_aliases WHERE alias_name = ?", "alias/open-key"
    )
    assert aliases and ids["open_key"].endswith(aliases[0]["target_key_id"])
    db = _rows(
        lake,
        "SELECT publicly_accessible, storage_encrypted FROM aws_rds_instances WHERE arn = ?",
        ids["db"],
    )
    assert db == [{"publicly_accessible": True, "storage_encrypted": False}]
    snap = _rows(lake, "SELECT attributes FROM aws_rds_db_snapshots WHERE arn = ?", ids["db_snap"])
    assert "all" in str(snap[0]["attributes"])
    shares = {
        (r["source_table"], r["resource_arn"], r["attribute"], r["grantee_type"], r["grantee"])
        for r in _rows(
            lake,
            "SELECT source_table, resource_arn, attribute, grantee_type, grantee "
            "FROM cwpp_aws_resource_shares WHERE account_id = ?",
            report.account_id,
        )
    }
    snap_arn = f"arn:aws:ec2:{REGION}:{report.account_id}:snapshot/"
    assert shares == {
        (
            "aws_ec2_ebs_snapshots",
            snap_arn + ids["public_snap"],
            "createVolumePermission",
            "group",
            "all",
        ),
        (
            "aws_ec2_ebs_snapshots",
            snap_arn + ids["private_snap"],
            "createVolumePermission",
            "account",
            "111122223333",
        ),
        ("aws_rds_db_snapshots", ids["db_snap"], "restore", "group", "all"),
        ("aws_rds_db_snapshots", ids["db_snap"], "restore", "account", "444455556666"),
    }
    db_groups = _rows(
        lake,
        "SELECT group_id FROM cwpp_aws_rds_instance_security_groups WHERE db_instance_arn = ?",
        ids["db"],
    )
    assert db_groups == [{"group_id": ids["db_sg"]}]
    cluster = _rows(
        lake, "SELECT storage_encrypted FROM aws_rds_clusters WHERE arn = ?", ids["cluster"]
    )
    assert cluster == [{"storage_encrypted": True}]
    assert (
        _rows(lake, "SELECT count(*) AS n FROM aws_rds_cluster_snapshots WHERE 1 = ?", 1)[0]["n"]
        >= 1
    )
    pitr = {
        r["table_arn"].rsplit("/", 1)[-1]: r["continuous_backups_status"]
        for r in _rows(
            lake,
            "SELECT table_arn, continuous_backups_status "
            "FROM aws_dynamodb_table_continuous_backups "
            "WHERE 1 = ?",
            1,
        )
    }
    assert pitr["orders"] == "ENABLED"
    secret = _rows(
        lake, "SELECT name, policy FROM aws_secretsmanager_secrets WHERE arn = ?", ids["secret"]
    )
    assert secret[0]["name"] == "prod/db" and secret[0]["policy"]
    params = {
        r["name"]: r["type"]
        for r in _rows(
            lake,
            "SELECT name, type FROM aws_ssm_parameters WHERE account_id = ?",
            report.account_id,
        )
    }
    assert params["/app/db_password"] == "String"
    assert params["/app/api_key"] == "SecureString"
    for source, source_arn in (
        ("aws_sns_topics", ids["topic"]),
        ("aws_efs_filesystems", ids["fs"]),
    ):
        principals = _rows(
            lake,
            "SELECT value FROM cwpp_aws_policy_statement_values WHERE source_table = ? "
            "AND source_arn = ? AND element = ?",
            source,
            source_arn,
            "Principal",
        )
        assert principals == [{"value": "*"}], source
    queue = _rows(
        lake, "SELECT kms_master_key_id, url FROM aws_sqs_queues WHERE url = ?", ids["queue_url"]
    )
    assert queue == [{"kms_master_key_id": "alias/aws/sqs", "url": ids["queue_url"]}]
    fs = _rows(lake, "SELECT encrypted FROM aws_efs_filesystems WHERE arn = ?", ids["fs"])
    assert fs == [{"encrypted": False}]

    # No secret value anywhere in the lake (RDS master password, secret string, SSM values).
    for name in sorted(lake.table_names()):
        if name.startswith(("aws_", "cwpp_aws_")):
            dump = json.dumps(lake.query(f'SELECT * FROM "{name}" WHERE 1 = ?', [1]), default=str)
            assert PLANTED_SECRET not in dump, name
