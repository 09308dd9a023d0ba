"""One scale unit's network and compute: security groups, VPCs with their defaults, instances."""

from __future__ import annotations

from typing import Any

from bench.peers.estate._base import ADMIN_CIDR, Estate, res, unit_prefix
from bench.peers.truth import Resource

WORLD4 = [{"CidrIp": "0.0.0.0/0", "Description": "anywhere"}]
WORLD6 = [{"CidrIpv6": "::/0", "Description": "anywhere"}]
SSH, RDP, DB, ALL = (
    "sg_ssh_open_to_internet",
    "sg_rdp_open_to_internet",
    "sg_database_port_open_to_internet",
    "sg_all_traffic_open_to_internet",
)


def _tcp(port: int, v4: list[dict[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if v4:
        rule["IpRanges"] = v4
    rule.update(extra)
    return rule


def default_vpc(e: Estate, region: str) -> str:
    """The region's default VPC id (moto makes one per region)."""
    ec2 = e.client("ec2", region)
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    return str(vpcs[0]["VpcId"])


def sg_resource(e: Estate, region: str, gid: str, name: str) -> Resource:
    """A security group as ground truth names it."""
    return res(
        "security_group",
        f"arn:aws:ec2:{region}:{e.account}:security-group/{gid}",
        name,
        region,
        gid,
    )


def security_groups(e: Estate, unit: int) -> dict[str, str]:
    """Nine groups in the default VPC, open to the internet on admin/database ports or not."""
    p, region = unit_prefix(unit), e.region(unit, 1)
    ec2, vpc = e.client("ec2", region), default_vpc(e, region)
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]
    subnet = subnet["SubnetId"]
    made: dict[str, str] = {}

    def group(
        role: str, rules: list[dict[str, Any]], bad: tuple[str, ...], good: tuple[str, ...]
    ) -> str:
        name = f"{p}-{role}"
        gid = str(ec2.create_security_group(GroupName=name, Description=role, VpcId=vpc)["GroupId"])
        if rules:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
        # Attached, as groups in real estates are: some tools skip groups nothing uses.
        ec2.create_network_interface(SubnetId=subnet, Groups=[gid], Description=f"{name} eni")
        e.made(2)
        r = sg_resource(e, region, gid, name)
        for kind in bad:
            e.bad(kind, r)
        for kind in good:
            e.good(kind, r)
        made[role] = gid
        return gid

    private = [{"CidrIp": "10.0.0.0/8", "Description": "corporate network"}]
    admin = group(
        "ssh-admin-only",
        [_tcp(22, [{"CidrIp": ADMIN_CIDR, "Description": "admin workstation"}, *private])],
        (),
        (SSH, ALL),
    )
    group("ssh-world", [_tcp(22, WORLD4)], (SSH,), (RDP, DB, ALL))
    group("rdp-world-v6", [_tcp(3389, Ipv6Ranges=WORLD6)], (RDP,), (SSH, DB, ALL))
    group(
        "rdp-from-bastion",
        [_tcp(3389, UserIdGroupPairs=[{"GroupId": admin, "Description": "bastion"}])],
        (),
        (RDP,),
    )
    group("db-public", [_tcp(5432, WORLD4)], (DB,), (SSH, RDP, ALL))
    group("cache-and-mysql-world", [_tcp(3306, WORLD4), _tcp(6379, WORLD4)], (DB,), (SSH, ALL))
    group("db-private", [_tcp(5432, [{"CidrIp": "10.0.0.0/16"}])], (), (DB, SSH, ALL))
    group("all-open", [{"IpProtocol": "-1", "IpRanges": WORLD4}], (ALL, SSH, RDP, DB), ())
    group("web", [_tcp(443, WORLD4, Ipv6Ranges=WORLD6), _tcp(80, WORLD4)], (), (SSH, RDP, DB, ALL))
    return made


def vpc_defaults(e: Estate, region: str, vpc_id: str, name: str, hardened: bool) -> None:
    """Records a VPC's flow logs, default group and default network ACL; hardens them if asked."""
    ec2 = e.client("ec2", region)
    vpc_r = res("vpc", f"arn:aws:ec2:{region}:{e.account}:vpc/{vpc_id}", name, region, vpc_id)
    where = [{"Name": "vpc-id", "Values": [vpc_id]}]
    sg = ec2.describe_security_groups(
        Filters=[*where, {"Name": "group-name", "Values": ["default"]}]
    )
    sg_id = str(sg["SecurityGroups"][0]["GroupId"])
    acls = ec2.describe_network_acls(Filters=[*where, {"Name": "default", "Values": ["true"]}])
    acl_id = str(acls["NetworkAcls"][0]["NetworkAclId"])
    sg_r = sg_resource(e, region, sg_id, "")
    acl_r = res(
        "network_acl", f"arn:aws:ec2:{region}:{e.account}:network-acl/{acl_id}", "", region, acl_id
    )
    e.made(3)
    if not hardened:
        if not sg["SecurityGroups"][0].get("IpPermissions"):  # AWS adds this rule; moto does not
            ec2.authorize_security_group_ingress(
                GroupId=sg_id,
                IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg_id}]}],
            )
        e.bad("vpc_flow_logs_disabled", vpc_r)
        e.bad("default_sg_allows_traffic", sg_r)
        e.bad("nacl_admin_ports_open_to_internet", acl_r)
        return
    ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{e.flow_log_bucket}",
    )
    group = sg["SecurityGroups"][0]
    if group.get("IpPermissions"):
        ec2.revoke_security_group_ingress(GroupId=sg_id, IpPermissions=group["IpPermissions"])
    if group.get("IpPermissionsEgress"):
        ec2.revoke_security_group_egress(GroupId=sg_id, IpPermissions=group["IpPermissionsEgress"])
    for entry in acls["NetworkAcls"][0]["Entries"]:
        if entry["RuleNumber"] < 32767:
            ec2.delete_network_acl_entry(
                NetworkAclId=acl_id, RuleNumber=entry["RuleNumber"], Egress=entry["Egress"]
            )
    for number, cidr, port in ((100, "0.0.0.0/0", 443), (110, "10.0.0.0/8", 22)):
        ec2.create_network_acl_entry(
            NetworkAclId=acl_id,
            RuleNumber=number,
            Protocol="6",
            RuleAction="allow",
            Egress=False,
            CidrBlock=cidr,
            PortRange={"From": port, "To": port},
        )
    ec2.create_network_acl_entry(
        NetworkAclId=acl_id,
        RuleNumber=100,
        Protocol="-1",
        RuleAction="allow",
        Egress=True,
        CidrBlock="0.0.0.0/0",
    )
    e.made()
    e.good("vpc_flow_logs_disabled", vpc_r)
    e.good("default_sg_allows_traffic", sg_r, "every rule removed")
    e.good(
        "nacl_admin_ports_open_to_internet", acl_r, "SSH only from 10.0.0.0/8; HTTPS from anywhere"
    )


def vpcs(e: Estate, unit: int) -> None:
    """Two VPCs: one left as created, one with flow logs and closed defaults."""
    p, region = unit_prefix(unit), e.region(unit, 0)
    ec2 = e.client("ec2", region)
    for n, hardened in ((0, False), (1, True)):
        name = f"{p}-vpc-{'hardened' if hardened else 'default-settings'}"
        tags = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}]
        vpc_id = str(
            ec2.create_vpc(CidrBlock=f"10.{(2 * unit + n) % 250}.0.0/16", TagSpecifications=tags)[
                "Vpc"
            ]["VpcId"]
        )
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.{(2 * unit + n) % 250}.1.0/24")
        # In use, as VPCs in real estates are: some tools skip empty VPCs and their defaults.
        ec2.create_network_interface(SubnetId=subnet["Subnet"]["SubnetId"], Description=name)
        e.made(3)
        vpc_defaults(e, region, vpc_id, name, hardened)


_LEAKY = """#!/bin/bash
export AWS_ACCESS_KEY_ID=AKIAZ7Q3EXAMPLE4B2C9
export AWS_SECRET_ACCESS_KEY=Vb3kq9XWm2LzT8pQ/r7nHs4JcY1dFa6Ue0GiKoEx
/opt/app/start.sh
"""
_DB_LEAK = """#cloud-config
write_files:
  - path: /etc/app.env
    content: |
      DB_HOST=orders.internal
      DB_PASSWORD=q8Zt!mW3vR7xLp2K
runcmd: [systemctl start app]
"""
_CLEAN = """#cloud-config
packages: [nginx]
runcmd:
  - aws ssm get-parameter --name /app/db-password --with-decryption > /run/app/db
  - systemctl enable --now nginx
"""


def instances(e: Estate, unit: int) -> None:
    """Three instances: IMDSv1 with keys in user data, IMDSv2 with a password, and a clean one."""
    p, region = unit_prefix(unit), e.region(unit, 1)
    ec2 = e.client("ec2", region)
    for role, tokens, data, leaks in (
        ("legacy-app", "optional", _LEAKY, True),
        ("batch", "required", _DB_LEAK, True),
        ("web", "required", _CLEAN, False),
    ):
        name = f"{p}-{role}"
        iid = ec2.run_instances(
            ImageId="ami-0abcdef1234567890",
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            UserData=data,  # boto3 base64-encodes it
            MetadataOptions={"HttpTokens": tokens, "HttpEndpoint": "enabled"},
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}
            ],
        )["Instances"][0]["InstanceId"]
        e.made(2)  # the instance and its root volume
        r = res(
            "ec2_instance", f"arn:aws:ec2:{region}:{e.account}:instance/{iid}", name, region, iid
        )
        (e.bad if tokens == "optional" else e.good)("ec2_imdsv1_allowed", r)
        (e.bad if leaks else e.good)("ec2_secrets_in_user_data", r)
