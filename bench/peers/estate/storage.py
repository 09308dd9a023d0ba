"""One scale unit's storage: S3 buckets, EBS volumes and snapshots, RDS, EFS and DynamoDB."""

from __future__ import annotations

from typing import Any

from bench.peers.estate._base import FOREIGN_ACCOUNT, Estate, doc, res, unit_prefix

_BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
_BUCKET_KINDS = (
    "s3_bucket_public_acl",
    "s3_bucket_public_policy",
    "s3_bucket_public_access_not_blocked",
    "s3_bucket_versioning_disabled",
    "s3_bucket_access_logging_disabled",
    "s3_bucket_no_tls_enforcement",
)


def _bucket(e: Estate, region: str, name: str, good: tuple[str, ...], bad: tuple[str, ...]) -> Any:
    s3 = e.client("s3", region)
    where = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=name, **({"CreateBucketConfiguration": where} if where else {}))
    e.made()
    r = res("s3_bucket", f"arn:aws:s3:::{name}", name, region)
    for kind in bad:
        e.bad(kind, r)
    for kind in good:
        e.good(kind, r)
    return s3


def _tls_only(name: str) -> dict[str, Any]:
    return {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _read(name: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "Read",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*",
    }
    if condition:
        statement["Condition"] = condition
    return statement


def buckets(e: Estate, unit: int) -> None:
    """Seven buckets: public by ACL (two ways) or policy, plain, hardened, and private twins."""
    p, region = unit_prefix(unit), e.region(unit, 0)
    pub, pab, ver, log, tls = (
        "s3_bucket_public_acl",
        "s3_bucket_public_access_not_blocked",
        "s3_bucket_versioning_disabled",
        "s3_bucket_access_logging_disabled",
        "s3_bucket_no_tls_enforcement",
    )
    name = f"{p}-public-acl"
    _bucket(e, region, name, (), (pub, pab)).put_bucket_acl(Bucket=name, ACL="public-read")
    name = f"{p}-any-aws-account"
    _bucket(e, region, name, (), (pub, pab)).put_bucket_acl(Bucket=name, ACL="authenticated-read")
    name = f"{p}-public-policy"
    s3 = _bucket(e, region, name, (), ("s3_bucket_public_policy", pab))
    s3.put_bucket_policy(Bucket=name, Policy=doc(_read(name)))
    _bucket(e, region, f"{p}-plain", (pub, "s3_bucket_public_policy"), (pab, ver, log, tls))

    logs = f"{p}-access-logs"
    s3 = _bucket(e, region, logs, (pub, pab, ver), ())
    s3.put_bucket_acl(Bucket=logs, ACL="log-delivery-write")
    s3.put_public_access_block(Bucket=logs, PublicAccessBlockConfiguration=_BLOCK_ALL)
    s3.put_bucket_versioning(Bucket=logs, VersioningConfiguration={"Status": "Enabled"})

    name = f"{p}-hardened"
    s3 = _bucket(e, region, name, _BUCKET_KINDS, ())
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=_BLOCK_ALL)
    s3.put_bucket_policy(Bucket=name, Policy=doc(_tls_only(name)))
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_logging(
        Bucket=name,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": f"{name}/"}},
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    for suffix, condition in (
        ("vpce-only", {"StringEquals": {"aws:SourceVpce": f"vpce-0a1b2c3d4e5f{unit:05d}"}}),
        ("org-only", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
    ):
        name = f"{p}-{suffix}"
        s3 = _bucket(e, region, name, ("s3_bucket_public_policy", pub), ())
        s3.put_bucket_policy(Bucket=name, Policy=doc(_read(name, condition), _tls_only(name)))


def ebs(e: Estate, unit: int) -> None:
    """Two volumes and three snapshots: unencrypted, encrypted, public, shared with one account."""
    p, region = unit_prefix(unit), e.region(unit, 1)
    ec2 = e.client("ec2", region)
    zone = f"{region}a"

    def volume(name: str, encrypted: bool) -> str:
        tags = [{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": name}]}]
        vid = str(
            ec2.create_volume(
                AvailabilityZone=zone, Size=8, Encrypted=encrypted, TagSpecifications=tags
            )["VolumeId"]
        )
        e.made()
        r = res("ebs_volume", f"arn:aws:ec2:{region}:{e.account}:volume/{vid}", name, region, vid)
        (e.good if encrypted else e.bad)("ebs_volume_unencrypted", r)
        return vid

    def snapshot(volume_id: str, name: str) -> Any:
        tags = [{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": name}]}]
        sid = str(ec2.create_snapshot(VolumeId=volume_id, TagSpecifications=tags)["SnapshotId"])
        e.made()
        return sid, res("ebs_snapshot", f"arn:aws:ec2:{region}::snapshot/{sid}", name, region, sid)

    plain = volume(f"{p}-data-plain", False)
    sealed = volume(f"{p}-data-encrypted", True)
    sid, r = snapshot(plain, f"{p}-snap-public")
    ec2.modify_snapshot_attribute(
        SnapshotId=sid, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    e.bad("ebs_snapshot_public", r)
    e.bad("ebs_snapshot_unencrypted", r)
    sid, r = snapshot(plain, f"{p}-snap-shared-partner")
    ec2.modify_snapshot_attribute(
        SnapshotId=sid,
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=[FOREIGN_ACCOUNT],
    )
    e.good("ebs_snapshot_public", r, "shared with one named account, not with everyone")
    e.bad("ebs_snapshot_unencrypted", r)
    _sid, r = snapshot(sealed, f"{p}-snap-encrypted")
    e.good("ebs_snapshot_public", r)
    e.good("ebs_snapshot_unencrypted", r)


def rds(e: Estate, unit: int, public_sg: str, private_sg: str) -> None:
    """A public, unencrypted, unpatched database without backups, and its hardened twin."""
    p, region = unit_prefix(unit), e.region(unit, 1)
    client = e.client("rds", region)
    ec2 = e.client("ec2", region)
    default = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    where = [{"Name": "vpc-id", "Values": [default["VpcId"]]}]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=where)["Subnets"]]
    group = f"{p}-db-subnets"  # every RDS instance in a VPC has one (AWS makes "default")
    client.create_db_subnet_group(
        DBSubnetGroupName=group, DBSubnetGroupDescription="default VPC", SubnetIds=subnets
    )
    kinds = (
        "rds_instance_public",
        "rds_instance_unencrypted",
        "rds_auto_minor_upgrade_disabled",
        "rds_instance_no_backups",
    )
    for name, bad, sg in (
        (f"{p}-db-public", True, public_sg),
        (f"{p}-db-private", False, private_sg),
    ):
        db = client.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="app",
            MasterUserPassword="not-a-real-password-42",
            AllocatedStorage=20,
            PubliclyAccessible=bad,
            StorageEncrypted=not bad,
            AutoMinorVersionUpgrade=not bad,
            BackupRetentionPeriod=0 if bad else 7,
            VpcSecurityGroupIds=[sg],
            DBSubnetGroupName=group,
        )["DBInstance"]
        e.made()
        r = res("rds_instance", db["DBInstanceArn"], name, region)
        for kind in kinds:
            (e.bad if bad else e.good)(kind, r)
        snap = f"{name}-snap"
        arn = client.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=snap)[
            "DBSnapshot"
        ]["DBSnapshotArn"]
        e.made()
        r = res("rds_snapshot", arn, snap, region)
        if bad:
            client.modify_db_snapshot_attribute(
                DBSnapshotIdentifier=snap, AttributeName="restore", ValuesToAdd=["all"]
            )
        (e.bad if bad else e.good)("rds_snapshot_public", r)


def efs_and_dynamodb(e: Estate, unit: int) -> None:
    """An unencrypted and an encrypted file system; a table without and one with PITR."""
    p, region = unit_prefix(unit), e.region(unit, 0)
    efs = e.client("efs", region)
    for name, encrypted in ((f"{p}-fs-plain", False), (f"{p}-fs-encrypted", True)):
        fs = efs.create_file_system(
            CreationToken=name, Encrypted=encrypted, Tags=[{"Key": "Name", "Value": name}]
        )
        e.made()
        r = res("efs", fs["FileSystemArn"], name, region, fs["FileSystemId"])
        (e.good if encrypted else e.bad)("efs_unencrypted", r)
    ddb = e.client("dynamodb", region)
    for name, pitr in ((f"{p}-orders", False), (f"{p}-ledger", True)):
        arn = ddb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )["TableDescription"]["TableArn"]
        e.made()
        if pitr:
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        (e.good if pitr else e.bad)(
            "dynamodb_table_no_pitr", res("dynamodb_table", arn, name, region)
        )
