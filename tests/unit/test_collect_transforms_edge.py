"""Pure transforms of the network and edge collectors: no network, no emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from opencwpp.collect.aws import (
    acm,
    apigateway,
    apigateway_methods,
    apigatewayv2,
    cloudfront,
    ec2_interfaces,
    ec2_vpc_endpoints,
    elbv1,
    elbv2_targets,
)
from opencwpp.collect.aws._apigateway import go_keys
from opencwpp.collect.aws._secrets import EXPOSURES
from opencwpp.collect.aws.policies import STATEMENT_VALUES, STATEMENTS
from opencwpp.lake.schema import cq_id

ACCOUNT = "000000000000"
REGION = "eu-west-1"


def _text(rows: Any) -> str:
    """Every value of a row, or of a {Table: rows} set, as one JSON text."""
    if isinstance(rows, dict) and rows and not all(isinstance(k, str) for k in rows):
        rows = {tbl.name: items for tbl, items in rows.items()}
    return json.dumps(rows, default=str)


def test_network_interface_row_and_security_group_rows() -> None:
    item = {
        "NetworkInterfaceId": "eni-1",
        "OwnerId": ACCOUNT,
        "VpcId": "vpc-1",
        "InterfaceType": "interface",
        "Association": {"PublicIp": "203.0.113.9", "IpOwnerId": "amazon"},
        "Attachment": {"InstanceId": "i-1", "DeviceIndex": 0},
        "Groups": [
            {"GroupId": "sg-d", "GroupName": "default"},
            {"GroupId": "sg-w", "GroupName": "web"},
        ],
        "TagSet": [{"Key": "Name", "Value": "front"}],
        "RequesterManaged": False,
        "SourceDestCheck": True,
    }
    out = ec2_interfaces.transform_network_interface(ACCOUNT, REGION, item)
    (eni,) = out[ec2_interfaces.NETWORK_INTERFACES]
    assert eni["arn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/eni-1"
    assert eni["tags"] == {"Name": "front"}
    assert eni["association"]["PublicIp"] == "203.0.113.9"
    assert eni["requester_managed"] is False and eni["source_dest_check"] is True
    groups = out[ec2_interfaces.INTERFACE_GROUPS]
    assert [(g["group_id"], g["group_name"]) for g in groups] == [
        ("sg-d", "default"),
        ("sg-w", "web"),
    ]
    assert {g["public_ip"] for g in groups} == {"203.0.113.9"}
    assert all(g["_cq_parent_id"] == eni["_cq_id"] for g in groups)
    private = ec2_interfaces.transform_network_interface(
        ACCOUNT, REGION, {**item, "Association": None, "Groups": [{"GroupId": "sg-d"}]}
    )
    assert private[ec2_interfaces.INTERFACE_GROUPS][0]["public_ip"] is None


def test_nat_gateway_arn_as_cloudquery_builds_it() -> None:
    row = ec2_interfaces.transform_nat_gateway(
        ACCOUNT,
        REGION,
        {"NatGatewayId": "nat-1", "State": "available", "Tags": [{"Key": "a", "Value": "b"}]},
    )
    assert row["arn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/nat-1"
    assert row["state"] == "available" and row["tags"] == {"a": "b"}


def test_vpc_endpoint_policy_is_kept_and_split() -> None:
    policy = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    )
    item = {
        "VpcEndpointId": "vpce-1",
        "OwnerId": ACCOUNT,
        "PolicyDocument": policy,
        "SubnetIds": [],
    }
    out = ec2_vpc_endpoints.transform_vpc_endpoint(ACCOUNT, REGION, item)
    (endpoint,) = out[ec2_vpc_endpoints.VPC_ENDPOINTS]
    assert endpoint["arn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/vpce-1"
    assert endpoint["policy_document"] == policy  # a string column, as CloudQuery has it
    (statement,) = out[STATEMENTS]
    assert statement["source_table"] == "aws_ec2_vpc_endpoints"
    assert statement["region"] == REGION
    values = {(v["element"], v["principal_type"], v["value"]) for v in out[STATEMENT_VALUES]}
    assert ("Principal", "*", "*") in values and ("Resource", None, "*") in values
    bare = ec2_vpc_endpoints.transform_vpc_endpoint(ACCOUNT, REGION, {"VpcEndpointId": "vpce-2"})
    assert bare[STATEMENTS] == []


def _classic(listeners: list[dict[str, Any]], policies: list[dict[str, Any]]) -> dict[str, Any]:
    lb = {
        "LoadBalancerName": "web",
        "Scheme": "internet-facing",
        "VPCId": "vpc-1",
        "CanonicalHostedZoneNameID": "Z1",
        "ListenerDescriptions": listeners,
    }
    return {
        "load_balancer": lb,
        "tags": [{"Key": "team", "Value": "edge"}],
        "attributes": {"AccessLog": {"Enabled": False}},
        "policies": policies,
    }


def test_classic_load_balancer_listeners_resolve_their_ssl_policy() -> None:
    listeners: list[dict[str, Any]] = [
        {"Listener": {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}},
        {
            "Listener": {"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstancePort": 80},
            "PolicyNames": ["stickiness", "tls"],
        },
    ]
    policies: list[dict[str, Any]] = [
        {"PolicyName": "stickiness", "PolicyTypeName": "LBCookieStickinessPolicyType"},
        {
            "PolicyName": "tls",
            "PolicyTypeName": "SSLNegotiationPolicyType",
            "PolicyAttributeDescriptions": [
                {
                    "AttributeName": "Reference-Security-Policy",
                    "AttributeValue": "ELBSecurityPolicy-2016-08",
                },
                {"AttributeName": "Protocol-TLSv1.2", "AttributeValue": "true"},
                {"AttributeName": "Protocol-TLSv1", "AttributeValue": "true"},
                {"AttributeName": "Protocol-SSLv3", "AttributeValue": "false"},
                {"AttributeName": "ECDHE-RSA-AES128-GCM-SHA256", "AttributeValue": "true"},
            ],
        },
    ]
    out = elbv1.transform_load_balancer(ACCOUNT, REGION, _classic(listeners, policies))
    (lb,) = out[elbv1.LOAD_BALANCERS]
    assert lb["arn"] == f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/web"
    assert lb["vpc_id"] == "vpc-1" and lb["canonical_hosted_zone_name_id"] == "Z1"
    assert lb["tags"] == {"team": "edge"}
    assert lb["attributes"] == {"AccessLog": {"Enabled": False}}
    assert {p["policy_name"] for p in out[elbv1.POLICIES]} == {"stickiness", "tls"}
    http, https = sorted(out[elbv1.LISTENERS], key=lambda r: r["load_balancer_port"])
    assert http["protocol"] == "HTTP" and http["ssl_policy_name"] is None
    assert https["ssl_policy_name"] == "tls"
    assert https["reference_security_policy"] == "ELBSecurityPolicy-2016-08"
    assert https["ssl_protocols"] == "TLSv1,TLSv1.2"  # SSLv3 is "false": not listed
    assert https["policy_names"] == ["stickiness", "tls"]
    assert all(r["_cq_parent_id"] == lb["_cq_id"] for r in out[elbv1.LISTENERS])


def test_classic_listener_without_policy_has_no_ssl_facts() -> None:
    listeners = [{"Listener": {"Protocol": "SSL", "LoadBalancerPort": 8443, "InstancePort": 8080}}]
    out = elbv1.transform_load_balancer(ACCOUNT, REGION, _classic(listeners, []))
    (row,) = out[elbv1.LISTENERS]
    assert row["ssl_policy_name"] is None and row["ssl_protocols"] is None


def test_target_group_and_target_health_rows() -> None:
    group = {
        "TargetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:0:targetgroup/web/1",
        "TargetGroupName": "web",
        "Protocol": "HTTP",
        "Port": 80,
        "LoadBalancerArns": ["arn:lb"],
        "Matcher": {"HttpCode": "200"},
    }
    health = [
        {
            "Target": {"Id": "10.0.0.5", "Port": 80, "AvailabilityZone": "eu-west-1a"},
            "HealthCheckPort": "80",
            "TargetHealth": {"State": "healthy"},
        }
    ]
    out = elbv2_targets.transform_target_group(ACCOUNT, REGION, group, [], health)
    (tg,) = out[elbv2_targets.TARGET_GROUPS]
    assert tg["arn"] == group["TargetGroupArn"] and tg["load_balancer_arns"] == ["arn:lb"]
    (target,) = out[elbv2_targets.TARGET_HEALTH]
    assert (target["target_id"], target["target_port"]) == ("10.0.0.5", 80)
    assert target["target_health"] == {"State": "healthy"}
    assert target["_cq_parent_id"] == tg["_cq_id"]


def test_listener_rule_secrets_are_hashed_and_parent_is_the_listener() -> None:
    listener = "arn:aws:elasticloadbalancing:eu-west-1:0:listener/app/web/1/2"
    rule: dict[str, Any] = {
        "RuleArn": f"{listener}/rule/3".replace("listener/", "listener-rule/"),
        "Priority": "5",
        "IsDefault": False,
        "Conditions": [
            {
                "Field": "http-header",
                "HttpHeaderConfig": {
                    "HttpHeaderName": "X-Origin-Verify",
                    "Values": ["hdr-secret-1"],
                },
            },
            {
                "Field": "query-string",
                "QueryStringConfig": {"Values": [{"Key": "token", "Value": "qs-secret-2"}]},
            },
            {
                "Field": "path-pattern",
                "Values": ["/api/*"],
                "PathPatternConfig": {"Values": ["/api/*"]},
            },
        ],
        "Actions": [
            {
                "Type": "authenticate-oidc",
                "AuthenticateOidcConfig": {"ClientId": "c", "ClientSecret": "oidc-secret-3"},
            },
            {"Type": "forward", "TargetGroupArn": "arn:tg"},
        ],
    }
    row = elbv2_targets.transform_rule(ACCOUNT, REGION, listener, rule)
    text = _text(row)
    for secret in ("hdr-secret-1", "qs-secret-2", "oidc-secret-3"):
        assert secret not in text
    assert "redacted:sha256:" in text and "/api/*" in text  # non-secret conditions kept
    assert row["priority"] == "5" and row["is_default"] is False
    assert row["_cq_parent_id"] == cq_id({"arn": listener}, ["arn"])
    assert rule["Conditions"][0]["HttpHeaderConfig"]["Values"] == ["hdr-secret-1"]  # input intact


def _distribution() -> dict[str, Any]:
    return {
        "Id": "E1",
        "ARN": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1",
        "DomainName": "d1.cloudfront.net",
        "Status": "Deployed",
        "LastModifiedTime": datetime(2024, 1, 2, tzinfo=UTC),
        "InProgressInvalidationBatches": 0,
        "DistributionConfig": {
            "Origins": {
                "Quantity": 2,
                "Items": [
                    {
                        "Id": "app",
                        "DomainName": "app.example.com",
                        "CustomHeaders": {
                            "Quantity": 1,
                            "Items": [
                                {"HeaderName": "X-Origin-Verify", "HeaderValue": "cf-secret-abc"}
                            ],
                        },
                        "CustomOriginConfig": {
                            "OriginProtocolPolicy": "http-only",
                            "OriginSslProtocols": {"Quantity": 2, "Items": ["TLSv1.2", "SSLv3"]},
                        },
                    },
                    {
                        "Id": "bucket",
                        "DomainName": "assets.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": "E2OAC",
                    },
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "app", "ViewerProtocolPolicy": "allow-all"},
            "CacheBehaviors": {
                "Quantity": 1,
                "Items": [
                    {
                        "PathPattern": "/static/*",
                        "TargetOriginId": "bucket",
                        "ViewerProtocolPolicy": "https-only",
                    }
                ],
            },
            "WebACLId": "",
        },
    }


def test_distribution_rows_origins_behaviors_and_redacted_headers() -> None:
    out = cloudfront.transform_distribution(
        ACCOUNT, _distribution(), [{"Key": "env", "Value": "prod"}]
    )
    (dist,) = out[cloudfront.DISTRIBUTIONS]
    assert dist["arn"].endswith(":distribution/E1") and dist["id"] == "E1"
    assert dist["tags"] == {"env": "prod"}
    assert "region" not in dist  # CloudFront is global: CloudQuery's table has no region
    assert "cf-secret-abc" not in _text(out)
    header = dist["distribution_config"]["Origins"]["Items"][0]["CustomHeaders"]["Items"][0]
    assert header["HeaderValue"].startswith("redacted:sha256:")
    origins = {o["origin_id"]: o for o in out[cloudfront.ORIGINS]}
    assert origins["app"]["origin_type"] == "custom"
    assert origins["app"]["origin_protocol_policy"] == "http-only"
    assert origins["app"]["origin_ssl_protocols"] == "SSLv3,TLSv1.2"
    assert origins["bucket"]["origin_type"] == "s3"
    assert origins["bucket"]["origin_access_control_id"] == "E2OAC"
    assert origins["bucket"]["origin_access_identity"] is None  # "" means none
    behaviors = sorted(out[cloudfront.BEHAVIORS], key=lambda b: b["behavior_index"])
    assert [(b["behavior_index"], b["is_default"], b["path_pattern"]) for b in behaviors] == [
        (0, True, None),
        (1, False, "/static/*"),
    ]
    assert behaviors[0]["viewer_protocol_policy"] == "allow-all"
    assert all(r["_cq_parent_id"] == dist["_cq_id"] for r in out[cloudfront.ORIGINS])


def test_go_keys_keeps_map_keys() -> None:
    converted = go_keys(
        {
            "methodSettings": {"*/*": {"loggingLevel": "INFO"}},
            "variables": {"dbHost": "x"},
            "endpointConfiguration": {"types": ["REGIONAL"]},
            "methodIntegration": {"requestTemplates": {"application/json": "t"}},
        }
    )
    assert converted == {
        "MethodSettings": {"*/*": {"LoggingLevel": "INFO"}},
        "Variables": {"dbHost": "x"},
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "MethodIntegration": {"RequestTemplates": {"application/json": "t"}},
    }


def test_rest_api_stage_settings_rows_and_redacted_variables() -> None:
    api = {
        "id": "a1",
        "name": "shop",
        "tags": {"Team": "web"},
        "endpointConfiguration": {"types": ["EDGE"]},
    }
    stage = {
        "stageName": "prod",
        "deploymentId": "d1",
        "cacheClusterEnabled": True,
        "webAclArn": "arn:aws:wafv2:eu-west-1:0:regional/webacl/a/1",
        "methodSettings": {
            "*/*": {"loggingLevel": "ERROR", "cachingEnabled": True, "cacheDataEncrypted": False},
            "~1login/POST": {"loggingLevel": "OFF"},
        },
        "variables": {"dbPassword": "Zq8!vR2#pL9@wX4$", "region": "eu-west-1"},
        "canarySettings": {
            "percentTraffic": 5.0,
            "stageVariableOverrides": {"dbPassword": "canary-pass-77"},
        },
        "accessLogSettings": {"destinationArn": "arn:logs", "format": "$context.requestId"},
    }
    out = apigateway.transform_rest_api(ACCOUNT, REGION, api, [stage])
    (row,) = out[apigateway.REST_APIS]
    assert row["arn"] == f"arn:aws:apigateway:{REGION}::/restapis/a1"
    assert row["tags"] == {"Team": "web"} and row["endpoint_configuration"] == {"Types": ["EDGE"]}
    (st,) = out[apigateway.STAGES]
    assert st["arn"] == f"{row['arn']}/stages/prod" and st["_cq_parent_id"] == row["_cq_id"]
    assert st["web_acl_arn"].endswith("/a/1") and st["cache_cluster_enabled"] is True
    assert st["access_log_settings"] == {
        "DestinationArn": "arn:logs",
        "Format": "$context.requestId",
    }
    assert st["method_settings"]["*/*"]["LoggingLevel"] == "ERROR"
    text = _text(out)
    assert "Zq8!vR2#pL9@wX4$" not in text and "canary-pass-77" not in text
    assert set(st["variables"]) == {"dbPassword", "region"}
    assert st["canary_settings"]["PercentTraffic"] == 5.0
    settings = {s["method_path"]: s for s in out[apigateway.METHOD_SETTINGS]}
    assert settings["*/*"]["logging_level"] == "ERROR"
    assert (
        settings["*/*"]["caching_enabled"] is True
        and settings["*/*"]["cache_data_encrypted"] is False
    )
    assert settings["~1login/POST"]["logging_level"] == "OFF"
    exposures = out[EXPOSURES]
    assert {e["location"] for e in exposures} == {
        "apigateway.stage.variables.dbPassword",
        "apigateway.stage.canary_overrides.dbPassword",
    }
    assert {e["source_table"] for e in exposures} == {"aws_apigateway_rest_api_stages"}
    assert {e["resource_arn"] for e in exposures} == {st["arn"]}


def test_domain_name_row() -> None:
    row = apigateway.transform_domain_name(
        ACCOUNT, REGION, {"domainName": "api.example.com", "securityPolicy": "TLS_1_0", "tags": {}}
    )
    assert row["arn"] == f"arn:aws:apigateway:{REGION}::/domainnames/api.example.com"
    assert row["security_policy"] == "TLS_1_0"


def test_rest_api_methods_with_hashed_static_parameters_and_templates() -> None:
    resource = {
        "id": "r1",
        "parentId": "root",
        "path": "/orders",
        "pathPart": "orders",
        "resourceMethods": {
            "GET": {
                "httpMethod": "GET",
                "authorizationType": "NONE",
                "apiKeyRequired": False,
                "methodIntegration": {
                    "type": "HTTP",
                    "requestParameters": {
                        "integration.request.header.x-api-key": "'Ab3dEf9hIj2kLm5nOp8qRs1t'",
                        "integration.request.path.id": "method.request.path.id",
                    },
                    "requestTemplates": {"application/json": '{"key": "ghp_' + "a" * 36 + '"}'},
                },
            }
        },
    }
    out = apigateway_methods.transform_resource(ACCOUNT, REGION, "a1", resource)
    (res,) = out[apigateway_methods.RESOURCES]
    assert res["arn"] == f"arn:aws:apigateway:{REGION}::/restapis/a1/resources/r1"
    assert res["path"] == "/orders" and res["parent_id"] == "root"
    (method,) = out[apigateway_methods.METHODS]
    assert method["arn"] == f"{res['arn']}/methods/GET" and method["_cq_parent_id"] == res["_cq_id"]
    assert method["authorization_type"] == "NONE" and method["api_key_required"] is False
    params = method["method_integration"]["RequestParameters"]
    assert params["integration.request.path.id"] == "method.request.path.id"  # a mapping, kept
    assert params["integration.request.header.x-api-key"].startswith("redacted:sha256:")
    text = _text(out)
    assert "Ab3dEf9hIj2kLm5nOp8qRs1t" not in text and "ghp_" not in text
    kinds = {e["kind"] for e in out[EXPOSURES]}
    assert "github_token" in kinds


def test_v2_api_stages_routes_and_redacted_stage_variables() -> None:
    api = {"ApiId": "h1", "Name": "http", "ProtocolType": "HTTP", "Tags": {"a": "b"}}
    stages = [
        {
            "StageName": "$default",
            "AccessLogSettings": {"DestinationArn": "arn:logs", "Format": "$context.requestId"},
            "StageVariables": {"apiToken": "v2-token-Qw7Er9Ty1Ui3"},
        }
    ]
    routes = [{"RouteId": "r1", "RouteKey": "GET /x", "AuthorizationType": "NONE"}]
    out = apigatewayv2.transform_api(ACCOUNT, REGION, api, stages, routes)
    (row,) = out[apigatewayv2.APIS]
    assert row["arn"] == f"arn:aws:apigateway:{REGION}::/apis/h1"
    assert row["id"] == row["api_id"] == "h1" and row["tags"] == {"a": "b"}
    (stage,) = out[apigatewayv2.STAGES]
    assert stage["arn"] == f"{row['arn']}/stages/$default" and stage["api_id"] == "h1"
    assert stage["access_log_settings"]["DestinationArn"] == "arn:logs"
    assert "v2-token-Qw7Er9Ty1Ui3" not in _text(out)
    (route,) = out[apigatewayv2.ROUTES]
    assert route["arn"] == f"{row['arn']}/routes/r1" and route["authorization_type"] == "NONE"
    assert route["_cq_parent_id"] == row["_cq_id"]


def test_certificate_row() -> None:
    certificate = {
        "CertificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/1",
        "DomainName": "example.com",
        "KeyAlgorithm": "RSA_1024",
        "NotAfter": datetime(2030, 1, 1, tzinfo=UTC),
        "InUseBy": ["arn:lb"],
        "Type": "IMPORTED",
        "RenewalEligibility": "INELIGIBLE",
        "SubjectAlternativeNames": ["example.com", "www.example.com"],
    }
    row = acm.transform_certificate(ACCOUNT, REGION, certificate, [{"Key": "k", "Value": "v"}])
    assert row["arn"] == certificate["CertificateArn"]
    assert row["key_algorithm"] == "RSA_1024" and row["in_use_by"] == ["arn:lb"]
    assert row["not_after"] == datetime(2030, 1, 1, tzinfo=UTC)
    assert row["subject_alternative_names"] == ["example.com", "www.example.com"]
    assert row["tags"] == {"k": "v"}
    assert set(acm.KEY_TYPES) >= {"RSA_1024", "RSA_2048", "EC_prime256v1"}
