"""Pure transforms of the AMI, launch template, Auto Scaling, ECS, EKS, Backup, Redshift,
OpenSearch and RDS parameter group collectors; Backup fetches (which moto lacks) on a stubbed
client."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import boto3
from botocore.stub import Stubber

from opencwpp.collect.aws import (
    autoscaling,
    backup,
    ec2_images,
    ec2_launch_templates,
    ecs,
    ecs_task_definitions,
    eks,
    elasticsearch,
    rds_parameter_groups,
    redshift,
)
from opencwpp.collect.aws._secrets import EXPOSURES, fingerprint
from opencwpp.collect.aws._shares import RESOURCE_SHARES
from opencwpp.collect.aws.policies import STATEMENT_VALUES, STATEMENTS
from opencwpp.lake.schema import cq_id

ACCOUNT = "000000000000"
REGION = "us-east-1"
TOKEN = "ghp_" + "Q7rT2vX9kLm4Np8sW1yZ3bC6dF0gH5jK2aE4"
PASSWORD = "Xk29!vLq7#mZt4wPq"
ASG_ARN = f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:1:autoScalingGroupName/web"
LC_ARN = f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:launchConfiguration:1:launchConfigurationName/lc"


def _b64(text: str, *, compress: bool = False) -> str:
    raw = text.encode()
    return base64.b64encode(gzip.compress(raw) if compress else raw).decode()


def _dump(rows: Any) -> str:
    return json.dumps({t.name: r for t, r in rows.items()}, default=str)


def test_image_row_and_launch_permission_shares() -> None:
    image = {
        "ImageId": "ami-1",
        "Name": "golden",
        "OwnerId": ACCOUNT,
        "Public": False,
        "CreationDate": "2024-05-01T10:00:00.000Z",
        "ImdsSupport": "v2.0",
        "Tags": [{"Key": "team", "Value": "web"}],
    }
    permissions = [
        {"UserId": "111122223333"},
        {"UserId": "111122223333"},
        {"Group": "all"},
        {"OrganizationArn": "arn:aws:organizations::000000000000:organization/o-abc"},
        {"OrganizationalUnitArn": "arn:aws:organizations::000000000000:ou/o-abc/ou-1"},
    ]
    rows = ec2_images.transform_image(ACCOUNT, REGION, image, permissions)
    (row,) = rows[ec2_images.IMAGES]
    assert row["arn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:image/ami-1"
    assert row["public"] is False and row["imds_support"] == "v2.0"
    assert row["creation_date"] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert row["tags"] == {"team": "web"}
    shares = rows[RESOURCE_SHARES]
    assert sorted((s["grantee_type"], s["grantee"]) for s in shares) == [
        ("account", "111122223333"),
        ("group", "all"),
        ("organization", "arn:aws:organizations::000000000000:organization/o-abc"),
        ("organizational_unit", "arn:aws:organizations::000000000000:ou/o-abc/ou-1"),
    ]
    assert {s["attribute"] for s in shares} == {"launchPermission"}
    assert {s["_cq_parent_id"] for s in shares} == {row["_cq_id"]}
    assert ec2_images.transform_image(ACCOUNT, REGION, image, None)[RESOURCE_SHARES] == []


def test_launch_template_user_data_is_fingerprinted_and_scanned() -> None:
    script = f"#!/bin/bash\nexport GITHUB_TOKEN={TOKEN}\n"
    template = {
        "LaunchTemplateId": "lt-1",
        "LaunchTemplateName": "web",
        "DefaultVersionNumber": 1,
        "LatestVersionNumber": 2,
        "Tags": [],
    }
    versions: list[dict[str, Any]] = [
        {
            "VersionNumber": 1,
            "DefaultVersion": True,
            "LaunchTemplateData": {
                "UserData": _b64(script, compress=True),
                "MetadataOptions": {"HttpTokens": "optional"},
            },
        },
        {"VersionNumber": 2, "DefaultVersion": False, "LaunchTemplateData": {"ImageId": "ami-1"}},
    ]
    rows = ec2_launch_templates.transform_template(ACCOUNT, REGION, template, versions)
    (parent,) = rows[ec2_launch_templates.TEMPLATES]
    first, second = rows[ec2_launch_templates.VERSIONS]
    assert parent["arn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:launch-template/lt-1"
    assert parent["latest_version_number"] == 2
    assert first["arn"] == parent["arn"] and first["default_version"] is True
    assert first["launch_template_data"]["UserData"] == fingerprint(script)
    assert first["launch_template_data"]["MetadataOptions"] == {"HttpTokens": "optional"}
    assert second["launch_template_data"] == {"ImageId": "ami-1"}
    assert {first["_cq_parent_id"], second["_cq_parent_id"]} == {parent["_cq_id"]}
    assert first["_cq_id"] != second["_cq_id"]
    (exposure,) = rows[EXPOSURES]
    assert exposure["location"] == "ec2.launch_template.version 1.user_data:line 2"
    assert exposure["kind"] == "github_token"
    assert exposure["source_table"] == "aws_ec2_launch_template_versions"
    assert exposure["resource_arn"] == parent["arn"]
    dump = _dump(rows)
    assert TOKEN not in dump and versions[0]["LaunchTemplateData"]["UserData"] not in dump


def test_auto_scaling_group_columns_and_tags() -> None:
    group = {
        "AutoScalingGroupName": "web",
        "AutoScalingGroupARN": ASG_ARN,
        "LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "$Latest"},
        "TargetGroupARNs": ["arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/t/1"],
        "VPCZoneIdentifier": "subnet-1,subnet-2",
        "ServiceLinkedRoleARN": "arn:aws:iam::000000000000:role/aws-service-role/x",
        "MinSize": 1,
        "MaxSize": 3,
        "Tags": [{"Key": "team", "Value": "web", "PropagateAtLaunch": True}],
    }
    (row,) = autoscaling.transform_group(ACCOUNT, REGION, group)[autoscaling.GROUPS]
    assert row["arn"] == group["AutoScalingGroupARN"] == row["auto_scaling_group_arn"]
    assert row["target_group_arns"] == group["TargetGroupARNs"]
    assert row["vpc_zone_identifier"] == "subnet-1,subnet-2"
    assert row["service_linked_role_arn"] == group["ServiceLinkedRoleARN"]
    assert row["launch_template"] == {"LaunchTemplateId": "lt-1", "Version": "$Latest"}
    assert row["tags"] == {"team": "web"}
    assert row["tags_raw"] == group["Tags"]
    assert (row["min_size"], row["max_size"]) == (1, 3)


def test_launch_configuration_user_data_is_fingerprinted_and_scanned() -> None:
    script = f"#!/bin/bash\nDB_PASSWORD={PASSWORD}\n"
    lc: dict[str, Any] = {
        "LaunchConfigurationName": "legacy",
        "LaunchConfigurationARN": LC_ARN,
        "UserData": _b64(script),
        "MetadataOptions": {"HttpTokens": "optional"},
        "AssociatePublicIpAddress": True,
        "ClassicLinkVPCSecurityGroups": ["sg-1"],
    }
    rows = autoscaling.transform_launch_configuration(ACCOUNT, REGION, lc)
    (row,) = rows[autoscaling.LAUNCH_CONFIGURATIONS]
    assert row["user_data"] == fingerprint(script)
    assert row["associate_public_ip_address"] is True
    assert row["classic_link_vpc_security_groups"] == ["sg-1"]
    assert row["metadata_options"] == {"HttpTokens": "optional"}
    (exposure,) = rows[EXPOSURES]
    assert exposure["location"] == "autoscaling.launch_configuration.user_data:line 2:DB_PASSWORD"
    assert exposure["kind"] == "password"
    assert PASSWORD not in _dump(rows) and lc["UserData"] not in _dump(rows)
    bare = autoscaling.transform_launch_configuration(ACCOUNT, REGION, {**lc, "UserData": ""})
    assert bare[autoscaling.LAUNCH_CONFIGURATIONS][0]["user_data"] is None
    assert bare[EXPOSURES] == []


def test_ecs_cluster_and_services() -> None:
    cluster = {
        "clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/apps",
        "clusterName": "apps",
        "settings": [{"name": "containerInsights", "value": "enabled"}],
        "tags": [{"key": "env", "value": "prod"}],
        "registeredContainerInstancesCount": 2,
    }
    service = {
        "serviceArn": "arn:aws:ecs:us-east-1:000000000000:service/apps/api",
        "serviceName": "api",
        "networkConfiguration": {"awsvpcConfiguration": {"assignPublicIp": "ENABLED"}},
        "tags": [{"key": "team", "value": "api"}],
    }
    rows = ecs.transform_cluster(ACCOUNT, REGION, cluster, [service])
    (parent,) = rows[ecs.CLUSTERS]
    (child,) = rows[ecs.SERVICES]
    assert parent["settings"] == [{"Name": "containerInsights", "Value": "enabled"}]
    assert parent["tags"] == {"env": "prod"}
    assert parent["registered_container_instances_count"] == 2
    assert child["cluster_arn"] == cluster["clusterArn"]
    assert child["network_configuration"] == {"AwsvpcConfiguration": {"AssignPublicIp": "ENABLED"}}
    assert child["tags"] == {"team": "api"}
    assert child["_cq_parent_id"] == parent["_cq_id"]
    assert list(ecs.chunks([str(i) for i in range(25)], 10)) == [
        [str(i) for i in range(10)],
        [str(i) for i in range(10, 20)],
        [str(i) for i in range(20, 25)],
    ]


def test_ecs_task_definition_environment_is_redacted() -> None:
    definition = {
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:000000000000:task-definition/api:3",
        "family": "api",
        "revision": 3,
        "networkMode": "host",
        "pidMode": "host",
        "requiresCompatibilities": ["EC2"],
        "containerDefinitions": [
            {
                "name": "api",
                "image": "nginx:1.27",
                "privileged": True,
                "user": "0",
                "environment": [
                    {"name": "DB_PASSWORD", "value": PASSWORD},
                    {"name": "LOG_LEVEL", "value": "debug"},
                ],
                "secrets": [
                    {"name": "API_KEY", "valueFrom": "arn:aws:ssm:us-east-1:0:parameter/k"}
                ],
                "dockerLabels": {"team-name": "api"},
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/api"}},
            },
            {"name": "sidecar", "image": "envoy"},
        ],
    }
    tags = [{"key": "env", "value": "prod"}]
    rows = ecs_task_definitions.transform_task_definition(ACCOUNT, REGION, definition, tags)
    (row,) = rows[ecs_task_definitions.TASK_DEFINITIONS]
    assert (row["network_mode"], row["pid_mode"], row["revision"]) == ("host", "host", 3)
    assert row["requires_compatibilities"] == ["EC2"] and row["tags"] == {"env": "prod"}
    api, sidecar = row["container_definitions"]
    assert api["DockerLabels"] == {"team-name": "api"}
    assert api["LogConfiguration"] == {"LogDriver": "awslogs", "Options": {"awslogs-group": "/api"}}
    assert api["Secrets"] == [
        {"Name": "API_KEY", "ValueFrom": "arn:aws:ssm:us-east-1:0:parameter/k"}
    ]
    env = {e["Name"]: e["Value"] for e in api["Environment"]}
    assert env == {"DB_PASSWORD": fingerprint(PASSWORD), "LOG_LEVEL": fingerprint("debug")}
    assert sidecar == {"Name": "sidecar", "Image": "envoy"}
    containers = {c["container_name"]: c for c in rows[ecs_task_definitions.CONTAINERS]}
    assert containers["api"]["privileged"] is True and containers["api"]["container_user"] == "0"
    assert (containers["api"]["environment_count"], containers["api"]["secrets_count"]) == (2, 1)
    assert containers["api"]["log_driver"] == "awslogs"
    assert containers["sidecar"]["privileged"] is None
    assert {c["_cq_parent_id"] for c in containers.values()} == {row["_cq_id"]}
    (exposure,) = rows[EXPOSURES]
    assert (exposure["location"], exposure["kind"]) == (
        "ecs.container.api.environment.DB_PASSWORD",
        "password",
    )
    assert PASSWORD not in _dump(rows)


def test_eks_cluster_derived_rows_and_activation_code() -> None:
    cluster = {
        "name": "k8s",
        "arn": "arn:aws:eks:us-east-1:000000000000:cluster/k8s",
        "version": "1.29",
        "resourcesVpcConfig": {
            "endpointPublicAccess": True,
            "publicAccessCidrs": ["0.0.0.0/0", "0.0.0.0/0", "203.0.113.0/24"],
        },
        "logging": {
            "clusterLogging": [
                {"types": ["api", "audit"], "enabled": False},
                {"types": ["audit"], "enabled": True},
            ]
        },
        "encryptionConfig": [
            {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:us-east-1:0:key/k"}}
        ],
        "connectorConfig": {"activationId": "a-1", "activationCode": "one-time-secret"},
        "tags": {"Team": "platform"},
    }
    rows = eks.transform_cluster(ACCOUNT, REGION, cluster)
    (row,) = rows[eks.CLUSTERS]
    assert row["resources_vpc_config"]["EndpointPublicAccess"] is True
    assert row["connector_config"] == {"ActivationId": "a-1"}
    assert row["tags"] == {"Team": "platform"}
    assert [r["cidr"] for r in rows[eks.PUBLIC_ACCESS_CIDRS]] == ["0.0.0.0/0", "203.0.113.0/24"]
    assert {r["log_type"]: r["enabled"] for r in rows[eks.LOG_TYPES]} == {
        "api": False,
        "audit": True,
    }
    (enc,) = rows[eks.ENCRYPTION]
    assert (enc["resource"], enc["key_arn"]) == ("secrets", "arn:aws:kms:us-east-1:0:key/k")
    derived = rows[eks.PUBLIC_ACCESS_CIDRS] + rows[eks.LOG_TYPES] + rows[eks.ENCRYPTION]
    assert {r["_cq_parent_id"] for r in derived} == {row["_cq_id"]}
    assert "one-time-secret" not in _dump(rows)


def test_backup_vault_plan_and_selections() -> None:
    vault = {
        "BackupVaultName": "vault",
        "BackupVaultArn": "arn:aws:backup:us-east-1:000000000000:backup-vault:vault",
        "EncryptionKeyArn": "arn:aws:kms:us-east-1:000000000000:key/k",
        "Locked": True,
        "MinRetentionDays": 7,
    }
    policy = json.dumps(
        {
            "Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "backup:DeleteRecoveryPoint"}
            ]
        }
    )
    notes = {"SNSTopicArn": "arn:aws:sns:us-east-1:0:t", "BackupVaultEvents": ["BACKUP_JOB_FAILED"]}
    rows = backup.transform_vault(ACCOUNT, REGION, vault, policy, notes, {"env": "prod"})
    (row,) = rows[backup.VAULTS]
    assert row["access_policy"]["Statement"][0]["Effect"] == "Deny"
    assert row["notifications"] == notes and row["tags"] == {"env": "prod"}
    assert (row["locked"], row["min_retention_days"]) == (True, 7)
    (statement,) = rows[STATEMENTS]
    assert (statement["source_table"], statement["source_arn"]) == (
        "aws_backup_vaults",
        vault["BackupVaultArn"],
    )
    assert statement["region"] == REGION
    assert {v["value"] for v in rows[STATEMENT_VALUES] if v["element"] == "Principal"} == {"*"}
    none = backup.transform_vault(ACCOUNT, REGION, vault, None, None, None)
    assert none[backup.VAULTS][0]["access_policy"] is None and none[STATEMENTS] == []

    listed = {
        "BackupPlanArn": "arn:aws:backup:us-east-1:0:backup-plan:p",
        "BackupPlanId": "p",
        "VersionId": "v1",
    }
    plan = {**listed, "BackupPlan": {"BackupPlanName": "daily", "Rules": []}}
    (plan_row,) = backup.transform_plan(ACCOUNT, REGION, listed, plan, None)[backup.PLANS]
    assert plan_row["arn"] == listed["BackupPlanArn"] and plan_row["version_id"] == "v1"
    assert plan_row["backup_plan"] == {"BackupPlanName": "daily", "Rules": []}
    selections = [
        {"SelectionId": "s1", "BackupPlanId": "p", "BackupSelection": {"SelectionName": "a"}},
        {"SelectionId": "s2", "BackupPlanId": "p", "BackupSelection": {"SelectionName": "b"}},
    ]
    chosen = backup.transform_selections(ACCOUNT, REGION, listed, selections)[backup.SELECTIONS]
    assert len({r["_cq_id"] for r in chosen}) == 2
    assert {r["_cq_parent_id"] for r in chosen} == {plan_row["_cq_id"]}
    assert {r["plan_version_id"] for r in chosen} == {"v1"}


def _context(client: Any) -> Any:
    return SimpleNamespace(account_id=ACCOUNT, client=lambda service, region=None: client)


def _backup_client() -> Any:
    return boto3.client(
        "backup",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_fetch_vaults_treats_a_missing_policy_as_none() -> None:
    client = _backup_client()
    arn = "arn:aws:backup:us-east-1:000000000000:backup-vault:v"
    with Stubber(client) as stub:
        stub.add_response(
            "list_backup_vaults",
            {"BackupVaultList": [{"BackupVaultName": "v", "BackupVaultArn": arn}]},
        )
        stub.add_client_error(
            "get_backup_vault_access_policy", "ResourceNotFoundException", http_status_code=400
        )
        stub.add_client_error(
            "get_backup_vault_notifications", "ResourceNotFoundException", http_status_code=400
        )
        stub.add_response("list_tags", {"Tags": {"env": "prod"}}, {"ResourceArn": arn})
        rows = backup.fetch_vaults(_context(client), REGION)
        stub.assert_no_pending_responses()
    (row,) = rows[backup.VAULTS]
    assert (row["arn"], row["access_policy"], row["notifications"]) == (arn, None, None)
    assert row["tags"] == {"env": "prod"}


def test_fetch_selections_reads_every_plan() -> None:
    client = _backup_client()
    plan = {
        "BackupPlanArn": "arn:aws:backup:us-east-1:0:backup-plan:p",
        "BackupPlanId": "p1",
        "VersionId": "v1",
    }
    with Stubber(client) as stub:
        stub.add_response("list_backup_plans", {"BackupPlansList": [plan]})
        stub.add_response(
            "list_backup_selections",
            {"BackupSelectionsList": [{"SelectionId": "s1"}]},
            {"BackupPlanId": "p1"},
        )
        stub.add_response(
            "get_backup_selection",
            {
                "BackupPlanId": "p1",
                "SelectionId": "s1",
                "BackupSelection": {
                    "SelectionName": "all-ebs",
                    "IamRoleArn": "arn:aws:iam::0:role/b",
                },
            },
            {"BackupPlanId": "p1", "SelectionId": "s1"},
        )
        rows = backup.fetch_selections(_context(client), REGION)
    (row,) = rows[backup.SELECTIONS]
    assert row["selection_id"] == "s1" and row["backup_selection"]["SelectionName"] == "all-ebs"
    parent_keys = {"arn": plan["BackupPlanArn"], "version_id": "v1"}
    assert row["_cq_parent_id"] == cq_id(parent_keys, backup.PLANS.cq_id_from)


def test_redshift_cluster_parameter_groups_and_parameters() -> None:
    cluster = {
        "ClusterIdentifier": "wh",
        "Encrypted": True,
        "PubliclyAccessible": False,
        "MultiAZ": "Disabled",
        "TotalStorageCapacityInMegaBytes": 400,
        "ClusterParameterGroups": [{"ParameterGroupName": "pg", "ParameterApplyStatus": "in-sync"}],
        "Tags": [{"Key": "env", "Value": "prod"}],
    }
    parameters: dict[str, list[dict[str, Any]]] = {
        "pg": [
            {"ParameterName": "require_ssl", "ParameterValue": "true", "IsModifiable": True},
            {"ParameterName": "enable_user_activity_logging", "ParameterValue": "false"},
        ]
    }
    status = {"LoggingEnabled": True, "BucketName": "logs"}
    rows = redshift.transform_cluster(ACCOUNT, REGION, cluster, status, parameters)
    (row,) = rows[redshift.CLUSTERS]
    assert row["arn"] == f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:wh"
    assert (row["encrypted"], row["multi_az"], row["total_storage_capacity_in_mega_bytes"]) == (
        True,
        "Disabled",
        400,
    )
    assert row["logging_status"] == status and row["tags"] == {"env": "prod"}
    (group,) = rows[redshift.PARAMETER_GROUPS]
    assert (group["cluster_arn"], group["parameter_group_name"]) == (row["arn"], "pg")
    assert group["_cq_parent_id"] == row["_cq_id"]
    params = {p["parameter_name"]: p for p in rows[redshift.PARAMETERS]}
    assert params["require_ssl"]["parameter_value"] == "true"
    assert params["require_ssl"]["is_modifiable"] is True
    assert {p["_cq_parent_id"] for p in params.values()} == {group["_cq_id"]}
    assert {p["cluster_arn"] for p in params.values()} == {row["arn"]}


def test_opensearch_domain_row_and_policy_split() -> None:
    domain = {
        "ARN": "arn:aws:es:us-east-1:000000000000:domain/logs",
        "DomainId": "000000000000/logs",
        "DomainName": "logs",
        "ElasticsearchVersion": "OpenSearch_2.11",
        "VPCOptions": {"VPCId": "vpc-1"},
        "DomainEndpointOptions": {
            "EnforceHTTPS": True,
            "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07",
        },
        "AccessPolicies": json.dumps(
            {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*"}]}
        ),
    }
    rows = elasticsearch.transform_domain(ACCOUNT, REGION, domain, [{"Key": "env", "Value": "p"}])
    (row,) = rows[elasticsearch.DOMAINS]
    assert row["arn"] == domain["ARN"] and row["vpc_options"] == {"VPCId": "vpc-1"}
    assert row["elasticsearch_version"] == "OpenSearch_2.11"
    assert row["access_policies"] == domain["AccessPolicies"] and row["tags"] == {"env": "p"}
    (statement,) = rows[STATEMENTS]
    assert statement["source_table"] == "aws_elasticsearch_domains"
    assert [v["value"] for v in rows[STATEMENT_VALUES] if v["element"] == "Principal"] == ["*"]


def test_rds_parameter_group_rows() -> None:
    group = {
        "DBParameterGroupName": "pg-ssl",
        "DBParameterGroupFamily": "postgres16",
        "DBParameterGroupArn": "arn:aws:rds:us-east-1:000000000000:pg:pg-ssl",
        "Description": "ssl",
    }
    parameters: list[dict[str, Any]] = [
        {
            "ParameterName": "rds.force_ssl",
            "ParameterValue": "1",
            "Source": "user",
            "IsModifiable": True,
        },
        {
            "ParameterName": "log_connections",
            "Source": "engine-default",
            "SupportedEngineModes": ["provisioned"],
        },
    ]
    kind = rds_parameter_groups._DB
    rows = rds_parameter_groups.transform_group(
        kind, ACCOUNT, REGION, group, parameters, {"a": "b"}
    )
    (row,) = rows[rds_parameter_groups.DB_GROUPS]
    assert (
        row["arn"] == group["DBParameterGroupArn"]
        and row["db_parameter_group_family"] == "postgres16"
    )
    assert row["tags"] == {"a": "b"}
    by_name = {p["parameter_name"]: p for p in rows[rds_parameter_groups.DB_PARAMETERS]}
    assert by_name["rds.force_ssl"]["parameter_value"] == "1"
    assert by_name["log_connections"]["supported_engine_modes"] == ["provisioned"]
    assert {p["db_parameter_group_arn"] for p in by_name.values()} == {row["arn"]}
    assert {p["_cq_parent_id"] for p in by_name.values()} == {row["_cq_id"]}
    cluster_group = {
        "DBClusterParameterGroupName": "apg",
        "DBClusterParameterGroupArn": "arn:aws:rds:us-east-1:000000000000:cluster-pg:apg",
        "DBParameterGroupFamily": "aurora-postgresql16",
    }
    kind = rds_parameter_groups._CLUSTER
    rows = rds_parameter_groups.transform_group(kind, ACCOUNT, REGION, cluster_group, parameters)
    (crow,) = rows[rds_parameter_groups.CLUSTER_GROUPS]
    assert crow["db_cluster_parameter_group_name"] == "apg" and crow["tags"] == {}
    cparams = rows[rds_parameter_groups.CLUSTER_PARAMETERS]
    assert {p["cluster_parameter_group_arn"] for p in cparams} == {crow["arn"]}
