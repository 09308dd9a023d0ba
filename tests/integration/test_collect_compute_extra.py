"""AMIs, launch templates, Auto Scaling, ECS, EKS, Backup, Redshift, OpenSearch and RDS parameter
groups over HTTP against moto, into the lake on DuckDB and PostgreSQL; planted secrets (launch
template and launch configuration user data, ECS container environment, Redshift master password)
never reach the lake."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from opencwpp.checks import builtin_checks, run_check
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import SyncReport, sync_aws
from opencwpp.core.models import Status
from opencwpp.lake.lake import Lake

REGION = "ca-central-1"  # a region no other test of the shared moto server uses
RESOURCES = (
    "ec2.images",
    "ec2.launch_templates",
    "autoscaling.groups",
    "autoscaling.launch_configurations",
    "ecs.clusters",
    "ecs.task_definitions",
    "eks.clusters",
    "backup.vaults",
    "backup.plans",
    "backup.plan_selections",
    "redshift.clusters",
    "es.domains",
    "rds.db_parameter_groups",
    "rds.cluster_parameter_groups",
)
# The emulator (moto 5.x) lacks these APIs: the scopes are recorded as not assessed.
MOTO_GAPS = {
    "backup.vaults": "GetBackupVaultAccessPolicy",
    "backup.plan_selections": "ListBackupSelections",
}
GITHUB_TOKEN = "ghp_" + "Q7rT2vX9kLm4Np8sW1yZ3bC6dF0gH5jK2aE4"
LC_PASSWORD = "Lc-Pa55w0rd!Vq8#zR2t"
ECS_PASSWORD = "Ecs-S3cr3t!Tm9@wQ4x"
LT_USER_DATA = f"#!/bin/bash\nexport GITHUB_TOKEN={GITHUB_TOKEN}\nexport APP_ENV=prod\n"
LC_USER_DATA = f"#!/bin/bash\nDB_PASSWORD={LC_PASSWORD}\n"
REDSHIFT_PASSWORD = "Wh-Passw0rd!x9-q7Zt"
PLANTED = (GITHUB_TOKEN, LC_PASSWORD, ECS_PASSWORD, REDSHIFT_PASSWORD)
PLANTED_ENCODED = tuple(base64.b64encode(t.encode()).decode() for t in (LT_USER_DATA, LC_USER_DATA))


def _public_policy(resource: str, action: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": action,
        "Resource": resource,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _build(endpoint: str) -> dict[str, str]:
    s = boto3.Session(region_name=REGION)
    ec2, asg, ecs, eks = (
        s.client(n, endpoint_url=endpoint) for n in ("ec2", "autoscaling", "ecs", "eks")
    )
    ids: dict[str, str] = {}
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]
    ids["public_ami"] = ec2.create_image(InstanceId=instance["InstanceId"], Name="golden")[
        "ImageId"
    ]
    ec2.modify_image_attribute(
        ImageId=ids["public_ami"],
        LaunchPermission={"Add": [{"Group": "all"}, {"UserId": "111122223333"}]},
    )
    ids["private_ami"] = ec2.create_image(InstanceId=instance["InstanceId"], Name="base")["ImageId"]
    template = ec2.create_launch_template(
        LaunchTemplateName="web",
        LaunchTemplateData={
            "ImageId": ids["public_ami"],
            "UserData": base64.b64encode(LT_USER_DATA.encode()).decode(),
            "MetadataOptions": {"HttpTokens": "optional", "HttpEndpoint": "enabled"},
        },
    )["LaunchTemplate"]
    ec2.create_launch_template_version(
        LaunchTemplateName="web",
        LaunchTemplateData={
            "ImageId": ids["public_ami"],
            "MetadataOptions": {"HttpTokens": "required"},
        },
    )
    ids["template"] = template["LaunchTemplateId"]
    asg.create_launch_configuration(
        LaunchConfigurationName="legacy",
        ImageId=ids["public_ami"],
        InstanceType="t3.micro",
        UserData=LC_USER_DATA,
        MetadataOptions={"HttpTokens": "optional"},
        AssociatePublicIpAddress=True,
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="by-config",
        LaunchConfigurationName="legacy",
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=[f"{REGION}a"],
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="by-template",
        LaunchTemplate={"LaunchTemplateId": ids["template"], "Version": "$Latest"},
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=[f"{REGION}a"],
        Tags=[{"Key": "team", "Value": "web", "PropagateAtLaunch": True}],
    )
    ids["cluster"] = ecs.create_cluster(clusterName="apps")["cluster"]["clusterArn"]
    task = ecs.register_task_definition(
        family="api",
        networkMode="host",
        containerDefinitions=[
            {
                "name": "api",
                "image": "nginx:1.27",
                "memory": 128,
                "privileged": True,
                "environment": [
                    {"name": "DB_PASSWORD", "value": ECS_PASSWORD},
                    {"name": "LOG_LEVEL", "value": "debug"},
                ],
                "dockerLabels": {"team-name": "api"},
            }
        ],
    )["taskDefinition"]
    ids["task"] = task["taskDefinitionArn"]
    ecs.create_service(cluster="apps", serviceName="api", taskDefinition="api", desiredCount=0)
    cluster = eks.create_cluster(
        name="k8s",
        roleArn="arn:aws:iam::123456789012:role/eks",
        version="1.27",
        resourcesVpcConfig={
            "subnetIds": ["subnet-1"],
            "endpointPublicAccess": True,
            "publicAccessCidrs": ["0.0.0.0/0"],
        },
    )["cluster"]
    ids["eks"] = cluster["arn"]
    backup = s.client("backup", endpoint_url=endpoint)
    backup.create_backup_vault(BackupVaultName="vault")
    plan = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": "daily",
            "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "vault"}],
        }
    )
    ids["plan"] = plan["BackupPlanArn"]
    rs = s.client("redshift", endpoint_url=endpoint)
    rs.create_cluster_parameter_group(
        ParameterGroupName="wh-params", ParameterGroupFamily="redshift-1.0", Description="wh"
    )
    rs.create_cluster(
        ClusterIdentifier="warehouse",
        NodeType="dc2.large",
        MasterUsername="admin",
        MasterUserPassword=REDSHIFT_PASSWORD,
        ClusterParameterGroupName="wh-params",
        PubliclyAccessible=True,
        Encrypted=False,
    )
    es = s.client("es", endpoint_url=endpoint)
    domain = es.create_elasticsearch_domain(
        DomainName="logs",
        AccessPolicies=_public_policy("*", "es:*"),
    )["DomainStatus"]
    ids["domain"] = domain["ARN"]
    rds = s.client("rds", endpoint_url=endpoint)
    rds.create_db_parameter_group(
        DBParameterGroupName="pg-ssl", DBParameterGroupFamily="postgres13", Description="ssl"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="pg-ssl",
        Parameters=[
            {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}
        ],
    )
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="aurora-params",
        DBParameterGroupFamily="aurora-mysql8.0",
        Description="aurora",
    )
    return ids


@pytest.fixture(scope="module")
def estate(moto_endpoint: str) -> dict[str, str]:
    return _build(moto_endpoint)


def _sync(lake: Lake, endpoint: str) -> SyncReport:
    chosen = [r for r in load_resources() if r.name in RESOURCES]
    assert {r.name for r in chosen} == set(RESOURCES)
    ctx = AwsContext.create(endpoint_url=endpoint, region=REGION)
    return sync_aws(lake, ctx, [REGION], resources=chosen)


def _rows(lake: Lake, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Query rows, JSON columns parsed (DuckDB returns them as text, PostgreSQL as objects)."""
    return [{k: _parsed(v) for k, v in row.items()} for row in lake.query(sql, params)]


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        return json.loads(value)
    return value


def _findings(lake: Lake, check_id: str) -> dict[str, Status]:
    check = builtin_checks().get(check_id)
    return {f.resource.uid: f.status for f in run_check(lake, check)}


def test_round_trip_and_moto_gaps(lake: Lake, moto_endpoint: str, estate: dict[str, str]) -> None:
    report = _sync(lake, moto_endpoint)
    assert not report.failed, report.failure_lines()
    gaps = {o.resource: o.reason for o in report.not_assessed}
    assert set(gaps) == set(MOTO_GAPS), gaps
    for name, operation in MOTO_GAPS.items():
        assert operation in gaps[name], gaps[name]
    account = report.account_id

    images = {
        r["image_id"]: r
        for r in _rows(
            lake, "SELECT image_id, public, arn, name FROM aws_ec2_images WHERE region = ?", REGION
        )
    }
    assert images[estate["public_ami"]]["public"] is True
    assert images[estate["private_ami"]]["public"] is False
    shares = {
        (r["grantee_type"], r["grantee"])
        for r in _rows(
            lake,
            "SELECT grantee_type, grantee FROM cwpp_aws_resource_shares "
            "WHERE source_table = ? AND resource_arn = ? AND attribute = ?",
            "aws_ec2_images",
            images[estate["public_ami"]]["arn"],
            "launchPermission",
        )
    }
    assert shares == {("group", "all"), ("account", "111122223333")}

    versions = {
        r["version_number"]: r
        for r in _rows(
            lake,
            "SELECT version_number, default_version, launch_template_data, _cq_parent_id "
            "FROM aws_ec2_launch_template_versions WHERE launch_template_id = ?",
            estate["template"],
        )
    }
    assert set(versions) == {1, 2}
    assert versions[1]["default_version"] is True
    assert versions[1]["launch_template_data"]["UserData"].startswith("redacted:sha256:")
    assert versions[1]["launch_template_data"]["MetadataOptions"]["HttpTokens"] == "optional"
    parent = _rows(
        lake,
        "SELECT _cq_id FROM aws_ec2_launch_templates WHERE launch_template_id = ?",
        estate["template"],
    )
    assert str(versions[2]["_cq_parent_id"]) == str(parent[0]["_cq_id"])
    exposures = {
        (r["source_table"], r["location"], r["kind"])
        for r in _rows(
            lake,
            "SELECT source_table, location, kind FROM cwpp_aws_secret_exposures WHERE region = ?",
            REGION,
        )
    }
    assert exposures == {
        (
            "aws_ec2_launch_template_versions",
            "ec2.launch_template.version 1.user_data:line 2",
            "github_token",
        ),
        (
            "aws_autoscaling_launch_configurations",
            "autoscaling.launch_configuration.user_data:line 2:DB_PASSWORD",
            "password",
        ),
        ("aws_ecs_task_definitions", "ecs.container.api.environment.DB_PASSWORD", "password"),
    }

    groups = {
        r["auto_scaling_group_name"]: r
        for r in _rows(
            lake,
            "SELECT auto_scaling_group_name, launch_configuration_name, launch_template, tags, "
            "tags_raw FROM aws_autoscaling_groups WHERE region = ?",
            REGION,
        )
    }
    assert groups["by-config"]["launch_configuration_name"] == "legacy"
    assert groups["by-template"]["launch_template"]["LaunchTemplateId"] == estate["template"]
    assert groups["by-template"]["tags"] == {"team": "web"}
    configs = _rows(
        lake,
        "SELECT user_data, metadata_options, associate_public_ip_address "
        "FROM aws_autoscaling_launch_configurations WHERE launch_configuration_name = ?",
        "legacy",
    )
    assert configs[0]["user_data"].startswith("redacted:sha256:")
    assert configs[0]["associate_public_ip_address"] is True

    task = _rows(
        lake,
        "SELECT network_mode, container_definitions FROM aws_ecs_task_definitions WHERE arn = ?",
        estate["task"],
    )[0]
    assert task["network_mode"] == "host"
    (container,) = task["container_definitions"]
    assert container["Privileged"] is True
    assert container["DockerLabels"] == {"team-name": "api"}
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert set(env) == {"DB_PASSWORD", "LOG_LEVEL"}
    assert all(v.startswith("redacted:sha256:") for v in env.values())
    containers = _rows(
        lake,
        "SELECT container_name, privileged, environment_count FROM "
        "cwpp_aws_ecs_task_definition_containers WHERE task_definition_arn = ?",
        estate["task"],
    )
    assert containers == [{"container_name": "api", "privileged": True, "environment_count": 2}]
    services = _rows(
        lake,
        "SELECT service_name FROM aws_ecs_cluster_services WHERE cluster_arn = ?",
        estate["cluster"],
    )
    assert services == [{"service_name": "api"}]

    eks = _rows(
        lake,
        "SELECT version, resources_vpc_config FROM aws_eks_clusters WHERE arn = ?",
        estate["eks"],
    )
    assert eks[0]["version"] == "1.27"
    assert eks[0]["resources_vpc_config"]["EndpointPublicAccess"] is True
    cidrs = _rows(
        lake,
        "SELECT cidr FROM cwpp_aws_eks_cluster_public_access_cidrs WHERE cluster_arn = ?",
        estate["eks"],
    )
    assert cidrs == [{"cidr": "0.0.0.0/0"}]

    plans = _rows(lake, "SELECT backup_plan FROM aws_backup_plans WHERE arn = ?", estate["plan"])
    assert plans[0]["backup_plan"]["Rules"][0]["TargetBackupVaultName"] == "vault"

    warehouse = _rows(
        lake,
        "SELECT arn, encrypted, publicly_accessible, logging_status FROM aws_redshift_clusters "
        "WHERE cluster_identifier = ?",
        "warehouse",
    )[0]
    assert warehouse["arn"] == f"arn:aws:redshift:{REGION}:{account}:cluster:warehouse"
    assert (warehouse["encrypted"], warehouse["publicly_accessible"]) == (False, True)
    assert warehouse["logging_status"]["LoggingEnabled"] is False
    ssl = _rows(
        lake,
        "SELECT parameter_value FROM aws_redshift_cluster_parameters WHERE cluster_arn = ? "
        "AND parameter_name = ?",
        warehouse["arn"],
        "require_ssl",
    )
    assert ssl == [{"parameter_value": "false"}]

    domain = _rows(
        lake,
        "SELECT access_policies, encryption_at_rest_options FROM aws_elasticsearch_domains "
        "WHERE arn = ?",
        estate["domain"],
    )[0]
    assert domain["encryption_at_rest_options"] == {"Enabled": False}
    principals = _rows(
        lake,
        "SELECT value FROM cwpp_aws_policy_statement_values WHERE source_table = ? "
        "AND source_arn = ? AND element = ?",
        "aws_elasticsearch_domains",
        estate["domain"],
        "Principal",
    )
    assert principals == [{"value": "*"}]

    force_ssl = _rows(
        lake,
        "SELECT p.parameter_value FROM aws_rds_db_parameter_groups AS g "
        "JOIN aws_rds_db_parameter_group_db_parameters AS p "
        "ON p.db_parameter_group_arn = g.arn AND p._cq_parent_id = g._cq_id "
        "WHERE g.db_parameter_group_name = ? AND p.parameter_name = ?",
        "pg-ssl",
        "rds.force_ssl",
    )
    assert force_ssl == [{"parameter_value": "1"}]
    cluster_groups = _rows(
        lake,
        "SELECT db_parameter_group_family FROM aws_rds_cluster_parameter_groups "
        "WHERE db_cluster_parameter_group_name = ?",
        "aurora-params",
    )
    assert cluster_groups == [{"db_parameter_group_family": "aurora-mysql8.0"}]


def test_planted_secrets_never_reach_the_lake(
    lake: Lake, moto_endpoint: str, estate: dict[str, str]
) -> None:
    _sync(lake, moto_endpoint)
    for name in sorted(lake.table_names()):
        if name.startswith(("aws_", "cwpp_")):
            dump = json.dumps(lake.query(f'SELECT * FROM "{name}" WHERE 1 = ?', [1]), default=str)
            for secret in (*PLANTED, *PLANTED_ENCODED):
                assert secret not in dump, name


def test_checks_judge_the_synced_estate(
    lake: Lake, moto_endpoint: str, estate: dict[str, str]
) -> None:
    report = _sync(lake, moto_endpoint)
    account = report.account_id
    template_arn = f"arn:aws:ec2:{REGION}:{account}:launch-template/{estate['template']}"
    ami_arn = f"arn:aws:ec2:{REGION}:{account}:image/"
    assert _findings(lake, "ec2_ami_public")[ami_arn + estate["public_ami"]] is Status.FAIL
    assert _findings(lake, "ec2_ami_public")[ami_arn + estate["private_ami"]] is Status.PASS
    assert _findings(lake, "ec2_launch_template_secrets_in_user_data")[template_arn] is Status.FAIL
    assert _findings(lake, "ec2_launch_template_imdsv1_allowed")[template_arn] is Status.FAIL
    secrets = _findings(lake, "ecs_task_definition_secrets_in_environment")
    assert secrets[estate["task"]] is Status.FAIL
    assert (
        _findings(lake, "ecs_task_definition_privileged_container")[estate["task"]] is Status.FAIL
    )
    assert _findings(lake, "eks_cluster_endpoint_open_to_internet")[estate["eks"]] is Status.FAIL
    assert (
        _findings(lake, "opensearch_domain_public_access_policy")[estate["domain"]] is Status.FAIL
    )
    warehouse = f"arn:aws:redshift:{REGION}:{account}:cluster:warehouse"
    assert _findings(lake, "redshift_cluster_require_ssl")[warehouse] is Status.FAIL
    vault_policy = {
        f.status for f in run_check(lake, builtin_checks().get("backup_vault_policy_public"))
    }
    assert vault_policy == {Status.NOT_ASSESSED}
