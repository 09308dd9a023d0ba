"""Network and edge services over HTTP against moto, on DuckDB and PostgreSQL: network
interfaces, NAT gateways, VPC endpoints, classic load balancers, ELBv2 target groups and listener
rules, CloudFront, API Gateway (REST, HTTP) and ACM. Planted secrets never reach the lake, and the
edge checks judge the synced estate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from opencwpp.checks import builtin_checks
from opencwpp.checks.engine import run_checks
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.sync import STATUS_NOT_ASSESSED, SyncReport, sync_aws
from opencwpp.core.models import Status
from opencwpp.lake.lake import Lake

REGION = "eu-west-3"  # away from the other modules' us-east-1 estates on the shared server
RESOURCES = (
    "ec2.network_interfaces",
    "ec2.nat_gateways",
    "ec2.vpc_endpoints",
    "elbv1.load_balancers",
    "elbv2.load_balancers",
    "elbv2.target_groups",
    "elbv2.listener_rules",
    "cloudfront.distributions",
    "apigateway.rest_apis",
    "apigateway.rest_api_resources",
    "apigateway.domain_names",
    "apigatewayv2.apis",
    "acm.certificates",
)
SECRETS = {
    "origin_header": "cf-origin-verify-7Hk2Qp9Lx4",
    "rule_header": "alb-header-secret-3Jd8Wm1Zr6",
    "stage_variable": "Rest-Stage-Pw-9Gv5Tn2Yb8",
    "static_parameter": "IntegrationKey5Vu4Ts3Rq2Po1",
    "template_token": "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed9Cb8",
    "v2_variable": "Http-Stage-Tok-4Ff7Gg1Hh6",
}
ORG_POLICY = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        }
    ]
}


def _self_signed(bits: int, days_left: int) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "legacy.example.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=300))
        .not_valid_after(now + timedelta(days=days_left))
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def _network(s: boto3.Session, endpoint: str) -> dict[str, str]:
    ec2 = s.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=f"{REGION}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    eni = ec2.create_network_interface(SubnetId=subnets[0], Description="edge public")
    eni_id = eni["NetworkInterface"]["NetworkInterfaceId"]
    ec2.associate_address(
        AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"], NetworkInterfaceId=eni_id
    )
    nat = ec2.create_nat_gateway(
        SubnetId=subnets[0], AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"]
    )["NatGateway"]["NatGatewayId"]
    gateway = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway"
    )["VpcEndpoint"]["VpcEndpointId"]
    interface = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName=f"com.amazonaws.{REGION}.sqs",
        VpcEndpointType="Interface",
        SubnetIds=[subnets[1]],
        PolicyDocument=json.dumps(ORG_POLICY),
    )["VpcEndpoint"]["VpcEndpointId"]
    return {
        "vpc": vpc,
        "subnet_a": subnets[0],
        "subnet_b": subnets[1],
        "eni": eni_id,
        "nat": nat,
        "vpce_default": gateway,
        "vpce_org": interface,
    }


def _load_balancers(s: boto3.Session, endpoint: str, ids: dict[str, str]) -> dict[str, str]:
    elb, elbv2 = s.client("elb", endpoint_url=endpoint), s.client("elbv2", endpoint_url=endpoint)
    elb.create_load_balancer(
        LoadBalancerName="edge-classic",
        Listeners=[
            {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80},
            {
                "Protocol": "HTTPS",
                "LoadBalancerPort": 443,
                "InstancePort": 80,
                "InstanceProtocol": "HTTP",
                "SSLCertificateId": "arn:aws:iam::123456789012:server-certificate/edge",
            },
        ],
        Subnets=[ids["subnet_a"]],
        Tags=[{"Key": "team", "Value": "edge"}],
    )
    elb.create_load_balancer_policy(
        LoadBalancerName="edge-classic",
        PolicyName="edge-tls",
        PolicyTypeName="SSLNegotiationPolicyType",
        PolicyAttributes=[
            {
                "AttributeName": "Reference-Security-Policy",
                "AttributeValue": "ELBSecurityPolicy-2016-08",
            }
        ],
    )
    elb.set_load_balancer_policies_of_listener(
        LoadBalancerName="edge-classic", LoadBalancerPort=443, PolicyNames=["edge-tls"]
    )
    lb = elbv2.create_load_balancer(Name="edge-alb", Subnets=[ids["subnet_a"], ids["subnet_b"]])
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(
        Name="edge-tg", Protocol="HTTP", Port=80, VpcId=ids["vpc"], TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    listener = elbv2.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )["Listeners"][0]["ListenerArn"]
    rule = elbv2.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[
            {
                "Field": "http-header",
                "HttpHeaderConfig": {
                    "HttpHeaderName": "X-Origin-Verify",
                    "Values": [SECRETS["rule_header"]],
                },
            }
        ],
        Actions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Rules"][0]["RuleArn"]
    return {"alb": lb_arn, "tg": tg, "listener": listener, "rule": rule}


def _cloudfront(s: boto3.Session, endpoint: str) -> str:
    cf = s.client("cloudfront", endpoint_url=endpoint)
    config = {
        "CallerReference": "edge-test",
        "Comment": "edge",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "app",
                    "DomainName": "app.example.com",
                    "CustomHeaders": {
                        "Quantity": 1,
                        "Items": [
                            {
                                "HeaderName": "X-Origin-Verify",
                                "HeaderValue": SECRETS["origin_header"],
                            }
                        ],
                    },
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "http-only",
                        "OriginSslProtocols": {"Quantity": 2, "Items": ["SSLv3", "TLSv1"]},
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        },
    }
    created = cf.create_distribution_with_tags(
        DistributionConfigWithTags={
            "DistributionConfig": config,
            "Tags": {"Items": [{"Key": "env", "Value": "edge"}]},
        }
    )
    return str(created["Distribution"]["ARN"])


def _api_gateway(s: boto3.Session, endpoint: str) -> dict[str, str]:
    ag = s.client("apigateway", endpoint_url=endpoint)
    api = ag.create_rest_api(name="edge-shop", tags={"team": "edge"})["id"]
    root = ag.get_resources(restApiId=api)["items"][0]["id"]
    ag.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(
        restApiId=api,
        resourceId=root,
        httpMethod="GET",
        type="HTTP",
        integrationHttpMethod="GET",
        uri="https://backend.example.com/",
        requestParameters={
            "integration.request.header.x-api-key": f"'{SECRETS['static_parameter']}'"
        },
        requestTemplates={"application/json": json.dumps({"token": SECRETS["template_token"]})},
    )
    ag.create_deployment(restApiId=api, stageName="prod")
    ag.update_stage(
        restApiId=api,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/variables/dbPassword", "value": SECRETS["stage_variable"]}
        ],
    )
    ag.create_domain_name(
        domainName="legacy-api.example.com",
        securityPolicy="TLS_1_0",
        regionalCertificateArn=f"arn:aws:acm:{REGION}:123456789012:certificate/edge",
        endpointConfiguration={"types": ["REGIONAL"]},
    )
    v2 = s.client("apigatewayv2", endpoint_url=endpoint)
    http = v2.create_api(Name="edge-http", ProtocolType="HTTP")["ApiId"]
    route = v2.create_route(ApiId=http, RouteKey="GET /orders", AuthorizationType="NONE")["RouteId"]
    v2.create_stage(
        ApiId=http, StageName="live", StageVariables={"apiToken": SECRETS["v2_variable"]}
    )
    return {"rest": api, "root": root, "http": http, "route": route}


def _certificates(s: boto3.Session, endpoint: str) -> dict[str, str]:
    acm = s.client("acm", endpoint_url=endpoint)
    cert, key = _self_signed(1024, days_left=10)
    weak = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    issued = acm.request_certificate(DomainName="shop.example.com")["CertificateArn"]
    return {"weak": weak, "issued": issued}


@pytest.fixture(scope="module")
def estate(moto_endpoint: str) -> dict[str, str]:
    s = boto3.Session(region_name=REGION)
    ids = _network(s, moto_endpoint)
    ids |= _load_balancers(s, moto_endpoint, ids)
    ids["distribution"] = _cloudfront(s, moto_endpoint)
    ids |= _api_gateway(s, moto_endpoint)
    ids |= _certificates(s, moto_endpoint)
    return ids


def _sync(lake: Lake, endpoint: str) -> SyncReport:
    ctx = AwsContext.create(endpoint_url=endpoint, region=REGION)
    return sync_aws(lake, ctx, [REGION], resources=list(RESOURCES))


def _rows(lake: Lake, sql: str, *params: Any) -> list[dict[str, Any]]:
    return [{k: _parsed(v) for k, v in row.items()} for row in lake.query(sql, params)]


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        return json.loads(value)
    return value


def _one(lake: Lake, sql: str, *params: Any) -> dict[str, Any]:
    rows = _rows(lake, sql, *params)
    assert len(rows) == 1, rows
    return rows[0]


def test_edge_round_trip(lake: Lake, moto_endpoint: str, estate: dict[str, str]) -> None:
    report = _sync(lake, moto_endpoint)
    assert not report.not_assessed, report.not_assessed  # moto serves every API these call

    eni = _one(
        lake,
        "SELECT association, interface_type, vpc_id FROM aws_ec2_network_interfaces "
        "WHERE network_interface_id = ?",
        estate["eni"],
    )
    assert eni["association"]["PublicIp"] and eni["vpc_id"] == estate["vpc"]
    group = _one(
        lake,
        "SELECT group_name, public_ip FROM cwpp_aws_ec2_network_interface_security_groups "
        "WHERE network_interface_id = ?",
        estate["eni"],
    )
    assert group == {"group_name": "default", "public_ip": eni["association"]["PublicIp"]}
    nat = _one(
        lake, "SELECT arn, state FROM aws_ec2_nat_gateways WHERE nat_gateway_id = ?", estate["nat"]
    )
    assert nat["arn"].endswith(f":natgateway/{estate['nat']}") and nat["state"] == "available"

    endpoint = _one(
        lake,
        "SELECT arn, policy_document, vpc_endpoint_type FROM aws_ec2_vpc_endpoints "
        "WHERE vpc_endpoint_id = ?",
        estate["vpce_org"],
    )
    assert endpoint["vpc_endpoint_type"] == "Interface"
    conditions = _rows(
        lake,
        "SELECT condition_key, value FROM cwpp_aws_policy_statement_conditions "
        "WHERE source_table = 'aws_ec2_vpc_endpoints' AND source_arn = ?",
        endpoint["arn"],
    )
    assert conditions == [{"condition_key": "aws:principalorgid", "value": "o-abc123"}]

    classic = _one(
        lake,
        "SELECT arn, scheme, tags, attributes FROM aws_elbv1_load_balancers "
        "WHERE load_balancer_name = 'edge-classic'",
    )
    assert classic["tags"] == {"team": "edge"}
    assert classic["attributes"]["AccessLog"]["Enabled"] is False
    listeners = _rows(
        lake,
        "SELECT protocol, load_balancer_port, ssl_policy_name, reference_security_policy "
        "FROM cwpp_aws_elbv1_listeners WHERE load_balancer_arn = ? ORDER BY load_balancer_port",
        classic["arn"],
    )
    assert listeners == [
        {
            "protocol": "HTTP",
            "load_balancer_port": 80,
            "ssl_policy_name": None,
            "reference_security_policy": None,
        },
        {
            "protocol": "HTTPS",
            "load_balancer_port": 443,
            "ssl_policy_name": "edge-tls",
            "reference_security_policy": "ELBSecurityPolicy-2016-08",
        },
    ]
    policy = _one(
        lake,
        "SELECT policy_type_name FROM aws_elbv1_load_balancer_policies WHERE load_balancer_arn = ?",
        classic["arn"],
    )
    assert policy == {"policy_type_name": "SSLNegotiationPolicyType"}

    tg = _one(
        lake,
        "SELECT protocol, target_type, vpc_id FROM aws_elbv2_target_groups WHERE arn = ?",
        estate["tg"],
    )
    assert tg == {"protocol": "HTTP", "target_type": "ip", "vpc_id": estate["vpc"]}
    rules = _rows(
        lake,
        "SELECT arn, is_default, priority, conditions FROM aws_elbv2_listener_rules "
        "WHERE listener_arn = ? ORDER BY is_default",
        estate["listener"],
    )
    assert [(r["arn"] == estate["rule"], r["is_default"]) for r in rules] == [
        (True, False),
        (False, True),
    ]
    header = rules[0]["conditions"][0]["HttpHeaderConfig"]
    assert header["HttpHeaderName"] == "X-Origin-Verify"
    assert header["Values"][0].startswith("redacted:sha256:")

    dist = _one(
        lake,
        "SELECT tags, distribution_config FROM aws_cloudfront_distributions WHERE arn = ?",
        estate["distribution"],
    )
    assert dist["tags"] == {"env": "edge"}
    assert (
        dist["distribution_config"]["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "allow-all"
    )
    origin = _one(
        lake,
        "SELECT origin_type, origin_protocol_policy, origin_ssl_protocols "
        "FROM cwpp_aws_cloudfront_distribution_origins WHERE distribution_arn = ?",
        estate["distribution"],
    )
    assert origin == {
        "origin_type": "custom",
        "origin_protocol_policy": "http-only",
        "origin_ssl_protocols": "SSLv3,TLSv1",
    }

    rest_arn = f"arn:aws:apigateway:{REGION}::/restapis/{estate['rest']}"
    stage = _one(
        lake,
        "SELECT variables, _cq_parent_id FROM aws_apigateway_rest_api_stages "
        "WHERE rest_api_arn = ?",
        rest_arn,
    )
    assert set(stage["variables"]) == {"dbPassword"}
    api = _one(
        lake, "SELECT _cq_id, name, tags FROM aws_apigateway_rest_apis WHERE arn = ?", rest_arn
    )
    assert api["name"] == "edge-shop" and api["tags"] == {"team": "edge"}
    assert str(stage["_cq_parent_id"]) == str(api["_cq_id"])
    method = _one(
        lake,
        "SELECT authorization_type, method_integration "
        "FROM aws_apigateway_rest_api_resource_methods WHERE rest_api_arn = ?",
        rest_arn,
    )
    assert method["authorization_type"] == "NONE"
    assert method["method_integration"]["Type"] == "HTTP"
    domain = _one(
        lake,
        "SELECT security_policy FROM aws_apigateway_domain_names WHERE domain_name = ?",
        "legacy-api.example.com",
    )
    assert domain == {"security_policy": "TLS_1_0"}
    exposures = _rows(
        lake,
        "SELECT source_table, kind FROM cwpp_aws_secret_exposures "
        "WHERE source_table LIKE 'aws_apigateway%' ORDER BY source_table",
    )
    assert {"source_table": "aws_apigateway_rest_api_stages", "kind": "password"} in exposures
    assert {
        "source_table": "aws_apigateway_rest_api_resource_methods",
        "kind": "github_token",
    } in exposures

    http_arn = f"arn:aws:apigateway:{REGION}::/apis/{estate['http']}"
    route = _one(
        lake,
        "SELECT authorization_type, route_key FROM aws_apigatewayv2_api_routes WHERE api_arn = ?",
        http_arn,
    )
    assert route == {"authorization_type": "NONE", "route_key": "GET /orders"}
    v2_stage = _one(
        lake,
        "SELECT stage_name, access_log_settings FROM aws_apigatewayv2_api_stages WHERE api_arn = ?",
        http_arn,
    )
    assert v2_stage["stage_name"] == "live" and not v2_stage["access_log_settings"]

    weak = _one(
        lake,
        "SELECT key_algorithm, type, status, not_after FROM aws_acm_certificates WHERE arn = ?",
        estate["weak"],
    )
    assert (weak["key_algorithm"], weak["type"], weak["status"]) == (
        "RSA_1024",
        "IMPORTED",
        "ISSUED",
    )
    assert isinstance(weak["not_after"], datetime)
    assert (
        _one(
            lake, "SELECT count(*) AS n FROM aws_acm_certificates WHERE arn = ?", estate["issued"]
        )["n"]
        == 1
    )


def test_planted_secrets_never_reach_the_lake(
    lake: Lake, moto_endpoint: str, estate: dict[str, str]
) -> None:
    _sync(lake, moto_endpoint)
    for name in sorted(lake.table_names()):
        text = json.dumps(lake.query(f'SELECT * FROM "{name}"'), default=str)
        leaked = [kind for kind, secret in SECRETS.items() if secret in text]
        assert not leaked, f"{name} holds {leaked}"


def test_edge_checks_judge_the_synced_estate(
    lake: Lake, moto_endpoint: str, estate: dict[str, str]
) -> None:
    _sync(lake, moto_endpoint)
    registry = builtin_checks()
    rest_arn = f"arn:aws:apigateway:{REGION}::/restapis/{estate['rest']}"
    classic = f"arn:aws:elasticloadbalancing:{REGION}:123456789012:loadbalancer/edge-classic"
    expected = {
        ("cloudfront_viewer_protocol_allows_http", estate["distribution"]): Status.FAIL,
        ("cloudfront_viewer_tls_outdated", estate["distribution"]): Status.FAIL,
        ("cloudfront_origin_traffic_unencrypted", estate["distribution"]): Status.FAIL,
        ("cloudfront_waf_not_enabled", estate["distribution"]): Status.FAIL,
        ("cloudfront_logging_disabled", estate["distribution"]): Status.FAIL,
        ("apigateway_stage_execution_logging_disabled", f"{rest_arn}/stages/prod"): Status.FAIL,
        ("apigateway_stage_waf_not_associated", f"{rest_arn}/stages/prod"): Status.FAIL,
        (
            "apigateway_stage_backend_client_certificate_missing",
            f"{rest_arn}/stages/prod",
        ): Status.FAIL,
        ("apigateway_rest_api_method_without_authorization", rest_arn): Status.FAIL,
        (
            "apigateway_domain_tls_outdated",
            f"arn:aws:apigateway:{REGION}::/domainnames/legacy-api.example.com",
        ): Status.FAIL,
        (
            "apigatewayv2_route_without_authorization",
            f"arn:aws:apigateway:{REGION}::/apis/{estate['http']}/routes/{estate['route']}",
        ): Status.FAIL,
        (
            "apigatewayv2_stage_access_logging_disabled",
            f"arn:aws:apigateway:{REGION}::/apis/{estate['http']}/stages/live",
        ): Status.FAIL,
        ("elbv1_listener_unencrypted", classic): Status.FAIL,
        ("elbv1_tls_policy_outdated", classic): Status.FAIL,
        ("elbv1_access_logs_disabled", classic): Status.FAIL,
        ("elbv2_listener_rule_serves_http", estate["rule"]): Status.FAIL,
        ("acm_certificate_expires_within_30_days", estate["weak"]): Status.FAIL,
        ("acm_certificate_rsa_key_too_short", estate["weak"]): Status.FAIL,
        (
            "ec2_network_interface_public_in_default_security_group",
            f"arn:aws:ec2:{REGION}:123456789012:network-interface/{estate['eni']}",
        ): Status.FAIL,
        (
            "vpc_endpoint_policy_unrestricted",
            f"arn:aws:ec2:{REGION}:123456789012:vpc-endpoint/{estate['vpce_default']}",
        ): Status.FAIL,
        (
            "vpc_endpoint_policy_unrestricted",
            f"arn:aws:ec2:{REGION}:123456789012:vpc-endpoint/{estate['vpce_org']}",
        ): Status.PASS,
    }
    checks = [registry.get(check_id) for check_id in sorted({c for c, _ in expected})]
    findings = {(f.check_id, f.resource.uid): f.status for f in run_checks(lake, checks)}
    got = {key: findings.get(key) for key in expected}
    assert got == expected
    assert not [f for f in findings.values() if f is Status.NOT_ASSESSED]


class _Unavailable:
    """A client whose every call answers as an emulator or partition lacking the API (501)."""

    def __getattr__(self, operation: str) -> Any:
        def call(*_: Any, **__: Any) -> Any:
            error = {"Code": "NotImplemented", "Message": "not here"}
            meta = {"HTTPStatusCode": 501}
            raise ClientError({"Error": error, "ResponseMetadata": meta}, operation)

        if operation == "get_paginator":
            return lambda _name: type("Paginator", (), {"paginate": staticmethod(call)})()
        return call


class _LackingContext:
    account_id = "000000000000"

    def client(self, service: str, region: str | None = None) -> Any:
        return _Unavailable()


def test_services_the_cloud_lacks_are_not_assessed(lake: Lake) -> None:
    report = sync_aws(lake, _LackingContext(), [REGION], resources=list(RESOURCES))
    outcomes = {o.resource: o for o in report.outcomes}
    assert set(outcomes) == set(RESOURCES)
    assert {o.status for o in outcomes.values()} == {STATUS_NOT_ASSESSED}
    assert all("service not available" in o.reason for o in outcomes.values())
    check = builtin_checks().get("cloudfront_waf_not_enabled")
    assert {f.status for f in run_checks(lake, [check])} == {Status.NOT_ASSESSED}
