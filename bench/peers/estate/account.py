"""Account- and region-wide settings, made once per estate whatever the scale.

The first region is left as a new account leaves it (no GuardDuty, no Config recorder, no EBS
encryption by default); the second is set up properly, so each setting has a defect and a
near-miss. CloudTrail has one good organisation-style trail and one neglected legacy trail.
"""

from __future__ import annotations

import json

from bench.peers.estate._base import Estate, res
from bench.peers.estate.network import default_vpc, vpc_defaults
from bench.peers.truth import Resource


def _region(e: Estate, region: str) -> Resource:
    return res("region", f"{e.account}:{region}", region, region, scope="region")


def _logs_bucket(e: Estate) -> str:
    region = e.regions[0]
    s3 = e.client("s3", region)
    name = f"pb-estate-logs-{e.account}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CloudTrailWrite",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": ["s3:GetBucketAcl", "s3:PutObject"],
                        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                    }
                ],
            }
        ),
    )
    e.made()
    return name


def _trails(e: Estate, bucket: str) -> None:
    home, other = e.regions[0], e.regions[-1]
    kms = e.client("kms", home)
    key = kms.create_key(Description="pb trail key")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key)
    e.made()
    ct = e.client("cloudtrail", home)
    good = ct.create_trail(
        Name="pb-organisation-trail",
        S3BucketName=bucket,
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True,
        EnableLogFileValidation=True,
        KmsKeyId=key,
    )["TrailARN"]
    ct.start_logging(Name="pb-organisation-trail")
    ct = e.client("cloudtrail", other)
    bad = ct.create_trail(Name="pb-legacy-trail", S3BucketName=bucket, IsMultiRegionTrail=False)[
        "TrailARN"
    ]
    ct.stop_logging(Name="pb-legacy-trail")
    e.made(2)
    r = res("cloudtrail_trail", good, "pb-organisation-trail", home)
    for kind in (
        "cloudtrail_trail_not_logging",
        "cloudtrail_log_validation_disabled",
        "cloudtrail_trail_not_kms_encrypted",
    ):
        e.good(kind, r)
        e.bad(kind, res("cloudtrail_trail", bad, "pb-legacy-trail", other))


def _detectors(e: Estate, bucket: str, role_arn: str) -> None:
    home, other = e.regions[0], e.regions[-1]
    for kind in ("guardduty_disabled", "config_recorder_disabled", "ebs_default_encryption_off"):
        e.bad(kind, _region(e, home), "a new account's default")
        e.good(kind, _region(e, other))
    e.client("guardduty", other).create_detector(Enable=True)
    config = e.client("config", other)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": role_arn,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    e.client("ec2", other).enable_ebs_encryption_by_default()
    e.made(2)


def _internet_gateway(e: Estate, region: str, vpc_id: str) -> None:
    """Gives the default VPC the internet gateway and route AWS gives it (moto does not)."""
    ec2 = e.client("ec2", region)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    for table in tables["RouteTables"]:
        ec2.create_route(
            RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw
        )
    e.made()


def build_account(e: Estate) -> None:
    """The estate-wide part: logs bucket, trails, detectors, default VPCs, IAM account settings."""
    bucket = _logs_bucket(e)
    e.flow_log_bucket = bucket
    iam = e.client("iam", e.regions[0])
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    role = iam.create_role(RoleName="pb-config-recorder", AssumeRolePolicyDocument=trust)
    e.made()
    _trails(e, bucket)
    _detectors(e, bucket, role["Role"]["Arn"])
    for region in e.regions:
        vpc_id = default_vpc(e, region)
        _internet_gateway(e, region, vpc_id)
        vpc_defaults(e, region, vpc_id, "", hardened=False)
    iam.update_account_password_policy(
        MinimumPasswordLength=8,
        RequireSymbols=False,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
    )
    account = res("account", e.account, e.account, scope="account")
    e.bad("iam_weak_password_policy", account, "8 characters, no symbols, no reuse prevention")
    e.bad("s3_account_public_access_not_blocked", account, "no account-level block")
    # Root MFA is not planted: moto's credential report has no <root_account> row, so no tool
    # can judge it here (DESIGN.md: the demo can only show what moto can express).
