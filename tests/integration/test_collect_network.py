"""Network and logging over HTTP against moto: VPCs, subnets, route tables, internet gateways,
network ACLs, flow logs, CloudTrail trails, ELBv2 load balancers, on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import SyncReport, sync_aws
from opencwpp.lake.lake import Lake

REGION = "us-east-1"
SERVICES = (
    "ec2.vpcs",
    "ec2.subnets",
    "ec2.route_tables",
    "ec2.internet_gateways",
    "ec2.network_acls",
    "ec2.flow_logs",
    "cloudtrail.",
    "elbv2.",
)


def _build(endpoint: str) -> dict[str, str]:
    s = boto3.Session(region_name=REGION)
    ec2, ct, s3, elb = (
        s.client(n, endpoint_url=endpoint) for n in ("ec2", "cloudtrail", "s3", "elbv2")
    )
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{REGION}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    ec2.modify_subnet_attribute(SubnetId=subnets[0], MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    for number, action in ((90, "deny"), (100, "allow")):
        ec2.create_network_acl_entry(
            NetworkAclId=acl,
            RuleNumber=number,
            Protocol="6",
            RuleAction=action,
            Egress=False,
            CidrBlock="0.0.0.0/0",
            PortRange={"From": 22, "To": 22},
        )
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    s3.create_bucket(Bucket="cwpp-flow-logs-net")
    flow = ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::cwpp-flow-logs-net",
    )["FlowLogIds"][0]
    s3.create_bucket(Bucket="cwpp-trail-net")
    trail = ct.create_trail(Name="main", S3BucketName="cwpp-trail-net", IsMultiRegionTrail=True)
    ct.start_logging(Name="main")
    ct.put_event_selectors(
        TrailName="main",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            }
        ],
    )
    lb = elb.create_load_balancer(Name="web", Subnets=subnets, Scheme="internet-facing")[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    ids = {"vpc": vpc, "subnet": subnets[0], "igw": igw, "rtb": rtb, "flow": flow, "acl": acl}
    return ids | {"trail": trail["TrailARN"], "lb": lb}


@pytest.fixture(scope="module")
def estate(moto_endpoint: str) -> dict[str, str]:
    return _build(moto_endpoint)


def _sync(lake: Lake, endpoint: str) -> SyncReport:
    mine = [r for r in load_resources() if r.name.startswith(SERVICES)]
    ctx = AwsContext.create(endpoint_url=endpoint, region=REGION)
    return sync_aws(lake, ctx, [REGION], resources=mine)


def _rows(lake: Lake, sql: str, *params: Any) -> list[dict[str, Any]]:
    rows = lake.query(sql, params)
    return [{k: _parsed(v) for k, v in row.items()} for row in rows]


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        return json.loads(value)
    return value


def test_network_round_trip(lake: Lake, moto_endpoint: str, estate: dict[str, str]) -> None:
    report = _sync(lake, moto_endpoint)
    assert not report.not_assessed, report.not_assessed
    vpc = _rows(
        lake, "SELECT cidr_block, is_default FROM aws_ec2_vpcs WHERE vpc_id = ?", estate["vpc"]
    )
    assert vpc == [{"cidr_block": "10.20.0.0/16", "is_default": False}]
    subnet = _rows(
        lake,
        "SELECT map_public_ip_on_launch, request_region FROM aws_ec2_subnets WHERE subnet_id = ?",
        estate["subnet"],
    )
    assert subnet == [{"map_public_ip_on_launch": True, "request_region": REGION}]
    routes = _rows(
        lake, "SELECT routes FROM aws_ec2_route_tables WHERE route_table_id = ?", estate["rtb"]
    )
    assert any(r.get("GatewayId") == estate["igw"] for r in routes[0]["routes"])
    igw = _rows(
        lake,
        "SELECT attachments FROM aws_ec2_internet_gateways WHERE internet_gateway_id = ?",
        estate["igw"],
    )
    assert igw[0]["attachments"][0]["VpcId"] == estate["vpc"]
    nacls = _rows(
        lake, "SELECT is_default FROM aws_ec2_network_acls WHERE vpc_id = ?", estate["vpc"]
    )
    assert {"is_default": True} in nacls
    entries = _rows(
        lake,
        "SELECT rule_number, rule_action, protocol, from_port, to_port, cidr_ipv4 "
        "FROM cwpp_aws_ec2_network_acl_entries WHERE network_acl_id = ? AND NOT egress "
        "ORDER BY rule_number",
        estate["acl"],
    )
    assert [e for e in entries if e["rule_number"] < 32767] == [
        {
            "rule_number": n,
            "rule_action": a,
            "protocol": "6",
            "from_port": 22,
            "to_port": 22,
            "cidr_ipv4": "0.0.0.0/0",
        }
        for n, a in ((90, "deny"), (100, "allow"))
    ]
    flow = _rows(
        lake,
        "SELECT resource_id, traffic_type FROM aws_ec2_flow_logs WHERE flow_log_id = ?",
        estate["flow"],
    )
    assert flow == [{"resource_id": estate["vpc"], "traffic_type": "ALL"}]
    trail = _rows(
        lake,
        "SELECT is_multi_region_trail, status, s3_bucket_name FROM aws_cloudtrail_trails "
        "WHERE arn = ?",
        estate["trail"],
    )
    assert trail[0]["is_multi_region_trail"] is True
    assert trail[0]["status"]["IsLogging"] is True
    assert trail[0]["s3_bucket_name"] == "cwpp-trail-net"
    selectors = _rows(
        lake,
        "SELECT event_selectors FROM aws_cloudtrail_trail_event_selectors WHERE trail_arn = ?",
        estate["trail"],
    )
    assert len(selectors) == 1
    fields = _rows(
        lake,
        "SELECT kind, field, operator, value FROM cwpp_aws_cloudtrail_selector_fields "
        "WHERE trail_arn = ? AND selector_index = ? ORDER BY field, value",
        estate["trail"],
        0,
    )
    assert [(f["field"], f["value"]) for f in fields] == [
        ("eventCategory", "Management"),
        ("readOnly", "false"),
        ("readOnly", "true"),
        ("resources.ARN", "arn:aws:s3"),
        ("resources.type", "AWS::S3::Object"),
    ]
    assert {f["kind"] for f in fields} == {"basic"}
    lb = _rows(
        lake, "SELECT scheme, type FROM aws_elbv2_load_balancers WHERE arn = ?", estate["lb"]
    )
    assert lb == [{"scheme": "internet-facing", "type": "application"}]
    listeners = _rows(
        lake,
        "SELECT protocol, port FROM aws_elbv2_listeners WHERE load_balancer_arn = ?",
        estate["lb"],
    )
    assert listeners == [{"protocol": "HTTP", "port": 80}]
    attributes = _rows(
        lake,
        "SELECT key FROM aws_elbv2_load_balancer_attributes WHERE load_balancer_arn = ?",
        estate["lb"],
    )
    assert {"key": "deletion_protection.enabled"} in attributes
