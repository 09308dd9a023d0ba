"""Compute over HTTP against moto: EC2 instances (IMDS, user data secrets), Lambda (redacted
environment, resource policy, function URL, layers) and ECR, on DuckDB and PostgreSQL."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import SyncReport, sync_aws
from opencwpp.lake.lake import Lake

REGION = "us-east-1"
SERVICES = ("ec2.instances", "lambda.", "ecr.")
ACCESS_KEY = "AKIA" + "Q3EXAMPLEKEY7ABC"
DB_PASSWORD = "pR0d-Xk29!vLq7#mZt4w"
USER_DATA = f"#!/bin/bash\nexport AWS_ACCESS_KEY_ID={ACCESS_KEY}\nexport APP_ENV=prod\n"
ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def _build(endpoint: str) -> dict[str, str]:
    s = boto3.Session(region_name=REGION)
    ec2, lam, ecr, iam = (
        s.client(n, endpoint_url=endpoint) for n in ("ec2", "lambda", "ecr", "iam")
    )
    ids: dict[str, str] = {}
    ids["sg"] = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    leaky = ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        SecurityGroupIds=[ids["sg"]],
        UserData=USER_DATA,
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
    )["Instances"][0]
    clean = ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        UserData="#!/bin/bash\necho hello\n",
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
    )["Instances"][0]
    ids |= {"leaky": leaky["InstanceId"], "clean": clean["InstanceId"]}
    role = iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY))
    function = lam.create_function(
        FunctionName="api",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        Environment={"Variables": {"DB_PASSWORD": DB_PASSWORD, "LOG_LEVEL": "debug"}},
    )
    lam.add_permission(
        FunctionName="api", StatementId="public", Action="lambda:InvokeFunctionUrl", Principal="*"
    )
    lam.create_function_url_config(FunctionName="api", AuthType="NONE")
    lam.publish_layer_version(LayerName="libs", Content={"ZipFile": _zip()})
    ids["function"] = function["FunctionArn"]
    repo = ecr.create_repository(
        repositoryName="app", imageScanningConfiguration={"scanOnPush": False}
    )["repository"]
    statement = {"Sid": "all", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}
    ecr.set_repository_policy(
        repositoryName="app",
        policyText=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    }
    ecr.put_image(repositoryName="app", imageManifest=json.dumps(manifest), imageTag="v1")
    ids["repo"] = repo["repositoryArn"]
    return ids


@pytest.fixture(scope="module")
def estate(moto_endpoint: str) -> dict[str, str]:
    return _build(moto_endpoint)


def _sync(lake: Lake, endpoint: str) -> SyncReport:
    mine = [r for r in load_resources() if r.name.startswith(SERVICES)]
    ctx = AwsContext.create(endpoint_url=endpoint, region=REGION)
    return sync_aws(lake, ctx, [REGION], resources=mine)


def _rows(lake: Lake, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Query rows, JSON columns parsed (DuckDB returns them as text, PostgreSQL as objects)."""
    rows = lake.query(sql, params)
    return [{k: _parsed(v) for k, v in row.items()} for row in rows]


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        return json.loads(value)
    return value


def test_compute_round_trip(lake: Lake, moto_endpoint: str, estate: dict[str, str]) -> None:
    report = _sync(lake, moto_endpoint)
    assert not report.not_assessed, report.not_assessed
    instances = {
        r["instance_id"]: r
        for r in _rows(
            lake, "SELECT instance_id, metadata_options, arn FROM aws_ec2_instances WHERE 1 = ?", 1
        )
    }
    assert instances[estate["leaky"]]["metadata_options"]["HttpTokens"] == "optional"
    assert instances[estate["clean"]]["metadata_options"]["HttpTokens"] == "required"
    exposures = _rows(
        lake,
        "SELECT resource_arn, location, kind, fingerprint FROM cwpp_aws_secret_exposures "
        "WHERE source_table = ?",
        "aws_ec2_instances",
    )
    assert [(e["location"], e["kind"]) for e in exposures] == [
        ("ec2.user_data:line 2", "aws_access_key_id")
    ]
    assert exposures[0]["resource_arn"] == instances[estate["leaky"]]["arn"]
    groups = _rows(
        lake,
        "SELECT instance_id, network_interface_id, group_id FROM "
        "cwpp_aws_ec2_instance_security_groups WHERE instance_arn = ?",
        instances[estate["leaky"]]["arn"],
    )
    assert {g["group_id"] for g in groups} == {estate["sg"]}
    assert {g["instance_id"] for g in groups} == {estate["leaky"]}
    assert None in {g["network_interface_id"] for g in groups}
    function = _rows(
        lake,
        "SELECT configuration, policy_document, code FROM aws_lambda_functions WHERE arn = ?",
        estate["function"],
    )[0]
    env = function["configuration"]["Environment"]["Variables"]
    assert set(env) == {"DB_PASSWORD", "LOG_LEVEL"}
    assert all(v.startswith("redacted:sha256:") for v in env.values())
    assert function["configuration"]["Runtime"] == "python3.12"
    assert "Location" not in (function["code"] or {})
    lambda_exposures = _rows(
        lake,
        "SELECT location, kind FROM cwpp_aws_secret_exposures WHERE source_table = ?",
        "aws_lambda_functions",
    )
    assert lambda_exposures == [{"location": "lambda.environment.DB_PASSWORD", "kind": "password"}]
    url = _rows(
        lake,
        "SELECT auth_type FROM aws_lambda_function_url_configs WHERE function_arn = ?",
        estate["function"],
    )
    assert url == [{"auth_type": "NONE"}]
    principals = _rows(
        lake,
        "SELECT value FROM cwpp_aws_policy_statement_values WHERE source_table = ? "
        "AND source_arn = ? "
        "AND element = ?",
        "aws_lambda_functions",
        estate["function"],
        "Principal",
    )
    assert principals == [{"value": "*"}]
    layers = _rows(lake, "SELECT layer_name FROM aws_lambda_layers WHERE layer_name = ?", "libs")
    assert layers == [{"layer_name": "libs"}]
    repo = _rows(
        lake,
        "SELECT image_scanning_configuration FROM aws_ecr_repositories WHERE arn = ?",
        estate["repo"],
    )
    assert repo == [{"image_scanning_configuration": {"ScanOnPush": False}}]
    images = _rows(
        lake,
        "SELECT image_tags FROM aws_ecr_repository_images WHERE repository_arn = ?",
        estate["repo"],
    )
    assert [list(i["image_tags"]) for i in images] == [["v1"]]
    policy = _rows(
        lake,
        "SELECT value FROM cwpp_aws_policy_statement_values WHERE source_table = ? "
        "AND source_arn = ? "
        "AND element = ?",
        "aws_ecr_repository_policies",
        estate["repo"],
        "Principal",
    )
    assert policy == [{"value": "*"}]
    registries = _rows(lake, "SELECT registry_id FROM aws_ecr_registries WHERE region = ?", REGION)
    assert len(registries) == 1
    # Neither planted secret appears anywhere in the lake, in clear or base64.
    planted = (ACCESS_KEY, DB_PASSWORD, base64.b64encode(USER_DATA.encode()).decode())
    for name in sorted(lake.table_names()):
        if name.startswith(("aws_", "cwpp_aws_")):
            dump = json.dumps(lake.query(f'SELECT * FROM "{name}" WHERE 1 = ?', [1]), default=str)
            assert not [p for p in planted if p in dump], name


def _lacking(ctx: Any, region: str | None) -> Any:
    # moto does not implement GetRuntimeManagementConfig: it answers HTTP 404.
    ctx.client("lambda", region).get_runtime_management_config(FunctionName="api")
    return {}


def test_api_moto_lacks_is_not_assessed_and_the_rest_syncs(
    tmp_path: Path, moto_endpoint: str, estate: dict[str, str]
) -> None:
    mine = [r for r in load_resources() if r.name.startswith(SERVICES)]
    lacking = [
        dataclasses.replace(r, fetch=_lacking) if r.name == "lambda.layers" else r for r in mine
    ]
    ctx = AwsContext.create(endpoint_url=moto_endpoint, region=REGION)
    with Lake.open(f"duckdb:///{tmp_path}/lake.duckdb") as lake:
        report = sync_aws(lake, ctx, [REGION], resources=lacking)
        assert [(o.resource, o.status) for o in report.not_assessed] == [
            ("lambda.layers", "not_assessed")
        ]
        assert "service not available" in report.not_assessed[0].reason
        ok = _rows(
            lake, "SELECT count(*) AS n FROM aws_lambda_functions WHERE arn = ?", estate["function"]
        )
        assert ok == [{"n": 1}]
