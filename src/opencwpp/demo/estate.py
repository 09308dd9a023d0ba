"""A small, realistic AWS estate with good and bad resources, built in an emulator.

Every kind of resource the checks cover has at least one compliant and one non-compliant
instance; one tag value is attacker-controlled markup, which every report must escape.
Only an emulator on a loopback address is accepted: this never touches a real account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3

from opencwpp.core.errors import UsageError

ATTACKER_STRING = "<script>alert(1)</script>"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_PREFIX = "cwpp-demo"


@dataclass(slots=True)
class EstateManifest:
    """What `build_estate` created: ARNs (security groups: ids) by the role they play."""

    account_id: str
    region: str
    buckets: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    security_groups: dict[str, str] = field(default_factory=dict)
    access_key_ids: list[str] = field(default_factory=list)
    mfa_serials: list[str] = field(default_factory=list)
    kms_key_arn: str = ""
    attacker_string: str = ATTACKER_STRING


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _clients(endpoint_url: str, region: str) -> dict[str, Any]:
    host = urlsplit(endpoint_url).hostname or ""
    if host not in _LOOPBACK:
        raise UsageError(f"the demo estate is only built in a local emulator, not at {host!r}")
    session = boto3.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's fake credentials
        region_name=region,
    )
    names = ("s3", "iam", "ec2", "kms", "sts")
    return {n: session.client(n, endpoint_url=endpoint_url) for n in names}


def _buckets(c: dict[str, Any], m: EstateManifest) -> None:
    s3, region = c["s3"], m.region
    where = {} if region == "us-east-1" else {"LocationConstraint": region}

    def bucket(role: str, name: str) -> str:
        s3.create_bucket(Bucket=name, **({"CreateBucketConfiguration": where} if where else {}))
        m.buckets[role] = f"arn:aws:s3:::{name}"
        return name

    logs = bucket("logs", f"{_PREFIX}-access-logs")
    s3.put_bucket_acl(Bucket=logs, ACL="log-delivery-write")
    public_acl = bucket("public_acl", f"{_PREFIX}-public-acl")
    s3.put_bucket_acl(Bucket=public_acl, ACL="public-read")
    public_policy = bucket("public_policy", f"{_PREFIX}-public-policy")
    s3.put_bucket_policy(
        Bucket=public_policy,
        Policy=_doc(
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{public_policy}/*",
            }
        ),
    )
    bucket("unencrypted", f"{_PREFIX}-unencrypted")
    secure = bucket("secure", f"{_PREFIX}-secure")
    s3.put_bucket_encryption(
        Bucket=secure,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": m.kms_key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_policy(
        Bucket=secure,
        Policy=_doc(
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{secure}", f"arn:aws:s3:::{secure}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ),
    )
    s3.put_bucket_versioning(Bucket=secure, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=secure,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_logging(
        Bucket=secure,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "secure/"}},
    )
    s3.put_bucket_ownership_controls(
        Bucket=secure, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_tagging(
        Bucket=secure,
        Tagging={"TagSet": [{"Key": "owner", "Value": ATTACKER_STRING}]},
    )


def _user(c: dict[str, Any], m: EstateManifest, role: str, name: str, **kw: Any) -> str:
    arn = str(c["iam"].create_user(UserName=name, **kw)["User"]["Arn"])
    m.users[role] = arn
    return name


def _iam(c: dict[str, Any], m: EstateManifest) -> None:
    iam = c["iam"]
    admin = iam.create_policy(
        PolicyName=f"{_PREFIX}-admin",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        Description="Full administrator access (customer managed)",
    )["Policy"]["Arn"]
    read_only = iam.create_policy(
        PolicyName=f"{_PREFIX}-s3-read",
        PolicyDocument=_doc(
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}
        ),
    )["Policy"]["Arn"]
    m.policies.update(admin=admin, s3_read=read_only)

    console = _user(
        c, m, "console_no_mfa", "alice", Tags=[{"Key": "team", "Value": ATTACKER_STRING}]
    )
    iam.create_login_profile(UserName=console, Password="Demo-Passw0rd!")  # noqa: S106
    iam.put_user_policy(
        UserName=console,
        PolicyName="alice-read",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
    )
    with_mfa = _user(c, m, "console_with_mfa", "bob")
    iam.create_login_profile(UserName=with_mfa, Password="Demo-Passw0rd!")  # noqa: S106
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob-mfa")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName=with_mfa,
        SerialNumber=serial["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    m.mfa_serials.append(str(serial["SerialNumber"]))
    iam.attach_user_policy(UserName=with_mfa, PolicyArn=read_only)
    keys = _user(c, m, "two_active_keys", "carol")
    for _ in range(2):
        m.access_key_ids.append(
            str(iam.create_access_key(UserName=keys)["AccessKey"]["AccessKeyId"])
        )
    admin_user = _user(c, m, "direct_admin", "dave")
    iam.attach_user_policy(UserName=admin_user, PolicyArn=admin)

    group = iam.create_group(GroupName="developers")["Group"]["Arn"]
    m.groups["wildcard_inline"] = str(group)
    iam.put_group_policy(
        GroupName="developers",
        PolicyName="developers-everything",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )
    iam.add_user_to_group(GroupName="developers", UserName=keys)
    trust = _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    role = iam.create_role(RoleName=f"{_PREFIX}-ci", AssumeRolePolicyDocument=trust)["Role"]
    iam.attach_role_policy(RoleName=f"{_PREFIX}-ci", PolicyArn=admin)
    m.roles["admin_role"] = str(role["Arn"])
    iam.update_account_password_policy(
        MinimumPasswordLength=6,
        RequireSymbols=False,
        RequireNumbers=False,
        RequireUppercaseCharacters=False,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
    )


def _security_groups(c: dict[str, Any], m: EstateManifest) -> None:
    ec2 = c["ec2"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    vpc_id = vpc[0]["VpcId"] if vpc else ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def group(role: str, name: str, rules: list[dict[str, Any]], tags: dict[str, str]) -> str:
        gid = str(
            ec2.create_security_group(
                GroupName=name,
                Description=f"demo: {role}",
                VpcId=vpc_id,
                TagSpecifications=[
                    {
                        "ResourceType": "security-group",
                        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                    }
                ],
            )["GroupId"]
        )
        if rules:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
        m.security_groups[role] = gid
        return gid

    world = [{"CidrIp": "0.0.0.0/0", "Description": "anywhere"}]
    group("ssh_open", f"{_PREFIX}-ssh", [_tcp(22, world)], {"Name": ATTACKER_STRING})
    rdp = _tcp(3389, world)
    rdp["Ipv6Ranges"] = [{"CidrIpv6": "::/0"}]
    group("rdp_open", f"{_PREFIX}-rdp", [rdp], {"Name": "rdp"})
    group(
        "all_open",
        f"{_PREFIX}-all",
        [{"IpProtocol": "-1", "IpRanges": world}],
        {"Name": "wide open"},
    )
    web = group(
        "restricted",
        f"{_PREFIX}-web",
        [_tcp(443, [{"CidrIp": "10.0.0.0/8", "Description": "internal"}])],
        {"Name": "web"},
    )
    ec2.authorize_security_group_ingress(
        GroupId=web,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": web}],
            }
        ],
    )


def _tcp(port: int, ranges: list[dict[str, str]]) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": ranges}


def build_estate(endpoint_url: str, region: str = "us-east-1") -> EstateManifest:
    """Creates the demo estate in the emulator at `endpoint_url`; returns what it made."""
    c = _clients(endpoint_url, region)
    m = EstateManifest(account_id=str(c["sts"].get_caller_identity()["Account"]), region=region)
    m.kms_key_arn = str(
        c["kms"].create_key(Description="cwpp demo bucket key")["KeyMetadata"]["Arn"]
    )
    _buckets(c, m)
    _iam(c, m)
    _security_groups(c, m)
    return m
