"""The vulnerability priority knows the workload: internet exposure and a powerful role.

End to end over moto: the inventory is synced, the exposure checks and the IAM engine run and
store their findings, then `cwpp vuln scan aws -f json` ranks the same vulnerability higher on
an internet-exposed function with an admin role than on a private one with a harmless role.
Plus the ECR image -> ECS service link on lake rows. Both on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest
import typer
from typer.testing import CliRunner

from opencwpp.assess import assess, select_checks
from opencwpp.cli import vuln_commands
from opencwpp.collect.aws._shape import with_ids
from opencwpp.collect.aws.ec2_instances import INSTANCES
from opencwpp.collect.aws.ecs import SERVICES
from opencwpp.collect.aws.ecs_task_definitions import CONTAINERS, TASK_DEFINITIONS
from opencwpp.collect.aws.iam_extras import INSTANCE_PROFILES
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.sync import sync_aws
from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.iam.lake_policies import load_estate
from opencwpp.iam.privesc import run_privesc
from opencwpp.lake import Lake
from opencwpp.vuln.context import ContextIndex, split_image
from opencwpp.vuln.osv.importer import detect_and_import
from opencwpp.vuln.scoring import WorkloadContext, prioritise

REGION = "ap-northeast-3"  # no other test of the shared moto server uses it
BUCKET = f"awslambda-{REGION}-tasks"  # where moto's code locations point
ACCOUNT = "123456789012"
ADMIN, HARMLESS = "cwpp-prio-admin", "cwpp-prio-harmless"
EXPOSED, PRIVATE = "cwpp-prio-exposed", "cwpp-prio-private"
TRUST = {
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
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return 1\n")
        z.writestr(
            "Django-3.2.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: Django\nVersion: 3.2.0\n",
        )
    return buf.getvalue()


def _osv(root: Path) -> Path:
    osv = root / "osv"
    osv.mkdir(parents=True, exist_ok=True)
    record = {
        "id": "PYSEC-2099-2",
        "modified": "2024-01-01T00:00:00Z",
        "aliases": ["CVE-2099-2"],
        "summary": "SQL injection",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "django"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}, {"fixed": "3.2.5"}]}
                ],
            }
        ],
    }
    (osv / "PYSEC-2099-2.json").write_text(json.dumps(record))
    return osv


@pytest.fixture(scope="module")
def workloads(moto_endpoint: str) -> dict[str, str]:
    """Two functions shipping the same Django: exposed with an admin role, private harmless."""
    session = boto3.Session(region_name=REGION)
    iam = session.client("iam", endpoint_url=moto_endpoint)
    roles = {}
    for name, action in ((ADMIN, "*"), (HARMLESS, "logs:CreateLogGroup")):
        roles[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))[
            "Role"
        ]["Arn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
        }
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    s3 = session.client("s3", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    lam = session.client("lambda", endpoint_url=moto_endpoint)
    arns = {}
    for fn, role in ((EXPOSED, ADMIN), (PRIVATE, HARMLESS)):
        s3.put_object(Bucket=BUCKET, Key=f"{fn}.zip", Body=_zip())
        arns[fn] = lam.create_function(
            FunctionName=fn,
            Runtime="python3.12",
            Role=roles[role],
            Handler="handler.handler",
            Code={"S3Bucket": BUCKET, "S3Key": f"{fn}.zip"},
        )["FunctionArn"]
    lam.create_function_url_config(FunctionName=EXPOSED, AuthType="NONE")
    return {**arns, **roles}


def _cli() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _cb() -> None:
        """Test root."""

    root.add_typer(vuln_commands.app, name="vuln")
    return root


def test_exposed_admin_workload_ranks_higher(
    lake_url: str, workloads: dict[str, str], moto_endpoint: str, tmp_path: Path
) -> None:
    with Lake.open(lake_url) as lake:
        detect_and_import(lake, _osv(tmp_path))
        ctx = AwsContext.create(endpoint_url=moto_endpoint)
        sync_aws(lake, ctx, [REGION], ["lambda.functions", "iam.roles", "iam.policies"])
        assess(lake, select_checks(["lambda_function_url_auth_none"]), workers=1)
        run_privesc(lake, load_estate(lake))
    args = ["vuln", "scan", "aws", "--regions", REGION, "--endpoint-url", moto_endpoint]
    out = CliRunner().invoke(_cli(), [*args, "--ecr-images", "0", "-f", "json", "--lake", lake_url])
    assert out.exit_code == 0, out.output
    doc = {d["resource"]["function_name"]: d for d in json.loads(out.stdout)}
    assert set(doc) == {EXPOSED, PRIVATE}
    exposed, private = doc[EXPOSED]["priority"], doc[PRIVATE]["priority"]
    assert doc[EXPOSED]["vulnerability"]["id"] == doc[PRIVATE]["vulnerability"]["id"]
    assert private["level"] == "medium" and exposed["level"] == "critical"
    assert exposed["score"] > private["score"]
    assert (
        "internet-exposed workload: function URL without authentication "
        "(lambda_function_url_auth_none)" in exposed["reasons"]
    )
    assert (
        f"powerful role: role {workloads[ADMIN]} is effectively admin "
        "(iam_principal_effective_admin)" in exposed["reasons"]
    )
    assert exposed["workload"]["admin_roles"] and exposed["workload"]["internet_exposed"]
    assert not any("internet-exposed" in r or "powerful role" in r for r in private["reasons"])
    assert "workload" not in private


IMAGE_URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop/web"
DIGEST = "sha256:" + "a" * 64


def _ecs_rows(lake: Lake) -> dict[str, str]:
    """Two services: one public running the image by tag with an admin task role, one not."""
    lake.ensure_tables([SERVICES, TASK_DEFINITIONS, CONTAINERS])
    base = {"account_id": ACCOUNT, "region": REGION}
    svc = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c/"
    td = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/"
    role = f"arn:aws:iam::{ACCOUNT}:role/"
    services = [("public", "public<b>", "a:1"), ("private", "private", "b:1")]
    lake.insert_rows(
        SERVICES,
        [
            with_ids(
                SERVICES,
                {**base, "arn": svc + key, "service_name": name, "task_definition": td + rev},
            )
            for key, name, rev in services
        ],
    )
    lake.insert_rows(
        TASK_DEFINITIONS,
        [
            with_ids(
                TASK_DEFINITIONS, {**base, "arn": td + "a:1", "task_role_arn": role + "task-admin"}
            ),
            with_ids(
                TASK_DEFINITIONS, {**base, "arn": td + "b:1", "task_role_arn": role + "task-plain"}
            ),
        ],
    )
    containers = [(td + "a:1", f"{IMAGE_URI}:v3"), (td + "b:1", f"{IMAGE_URI}@{DIGEST}")]
    lake.insert_rows(
        CONTAINERS,
        [
            with_ids(
                CONTAINERS,
                {**base, "task_definition_arn": t, "container_name": "w", "image": image},
            )
            for t, image in containers
        ],
    )
    run = start_run(lake, "assess")

    def finding(check: str, uid: str, name: str, status: Status) -> Finding:
        return Finding(
            check_id=check,
            title=check,
            pillar=Pillar.ACCESS,
            severity=Severity.MEDIUM,
            status=status,
            resource=ResourceRef(uid=uid, type="x", account_id=ACCOUNT, name=name),
        )

    save_findings(
        lake,
        run,
        [
            finding("ecs_service_public_ip", svc + "public", "public<b>", Status.FAIL),
            finding("ecs_service_public_ip", svc + "private", "private", Status.PASS),
            finding("iam_principal_effective_admin", role + "task-admin", "a", Status.FAIL),
            finding("iam_principal_effective_admin", role + "task-plain", "p", Status.PASS),
            finding("iam_privesc_path", role + "task-plain", "p", Status.FAIL),
        ],
        [],
    )
    finish_run(lake, run, "ok", {})
    return {"role": role}


def test_image_context_through_ecs_services(lake: Lake) -> None:
    roles = _ecs_rows(lake)
    index = ContextIndex(lake)
    by_tag = index.for_image(IMAGE_URI, "sha256:" + "b" * 64, ["v3", "latest"])
    assert by_tag.exposure == (
        "ECS service public<b> gives its tasks public IP addresses (ecs_service_public_ip)",
    )
    assert by_tag.admin_roles == (
        f"role {roles['role']}task-admin is effectively admin (iam_principal_effective_admin)",
    )
    by_digest = index.for_image(IMAGE_URI, DIGEST, [])
    assert by_digest.exposure == () and by_digest.admin_roles == ()
    assert by_digest.escalating_roles == (
        f"role {roles['role']}task-plain can escalate to admin (iam_privesc_path)",
    )
    # A near miss: same repository, other tag and digest: no service runs it.
    assert not index.for_image(IMAGE_URI, "sha256:" + "c" * 64, ["v2"])
    assert not index.for_image(IMAGE_URI.replace("web", "api"), DIGEST, ["v3"])


def test_priority_reasons_and_rank() -> None:
    ctx = WorkloadContext(("function URL without authentication",), ("role r is admin",))
    plain = prioritise(Severity.LOW, False, 0.01, ["2.0"])
    hot = prioritise(Severity.LOW, False, 0.01, ["2.0"], ctx)
    assert plain.level is Severity.LOW and hot.level is Severity.HIGH
    assert hot.score > plain.score
    assert hot.reasons[1:3] == (
        "internet-exposed workload: function URL without authentication",
        "powerful role: role r is admin",
    )
    assert prioritise(Severity.CRITICAL, True, None, [], ctx).level is Severity.CRITICAL
    escalate = prioritise(Severity.LOW, False, None, [], WorkloadContext((), (), ("role e",)))
    assert escalate.level is Severity.MEDIUM and escalate.score < hot.score
    assert split_image("123.dkr.ecr.r.amazonaws.com/a/b:1@sha256:x") == (
        "123.dkr.ecr.r.amazonaws.com/a/b",
        "1",
        "sha256:x",
    )
    assert split_image("localhost:5000/a") == ("localhost:5000/a", "latest", "")


def test_instance_context_through_instance_profile(lake: Lake) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/"
    profile = f"arn:aws:iam::{ACCOUNT}:instance-profile/"
    inst = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/"
    lake.ensure_tables([INSTANCES, INSTANCE_PROFILES])
    lake.insert_rows(
        INSTANCE_PROFILES,
        [
            with_ids(
                INSTANCE_PROFILES,
                {
                    "account_id": ACCOUNT,
                    "id": p,
                    "arn": profile + p,
                    "roles": [{"Arn": role + p, "RoleName": p}],
                },
            )
            for p in ("web", "batch")
        ],
    )
    lake.insert_rows(
        INSTANCES,
        [
            with_ids(
                INSTANCES,
                {
                    "account_id": ACCOUNT,
                    "region": REGION,
                    "arn": inst + i,
                    "iam_instance_profile": {"Arn": profile + p},
                },
            )
            for i, p in (("i-1", "web"), ("i-2", "batch"))
        ],
    )
    run = start_run(lake, "assess")
    found = [
        ("ec2_instance_public_and_open_to_internet", inst + "i-1", Status.FAIL),
        ("ec2_instance_public_and_open_to_internet", inst + "i-2", Status.PASS),
        ("iam_principal_effective_admin", role + "web", Status.FAIL),
        ("iam_principal_effective_admin", role + "batch", Status.PASS),
    ]
    save_findings(
        lake,
        run,
        [
            Finding(
                check_id=c,
                title=c,
                pillar=Pillar.ACCESS,
                severity=Severity.MEDIUM,
                status=s,
                resource=ResourceRef(uid=u, type="x", account_id=ACCOUNT),
            )
            for c, u, s in found
        ],
        [],
    )
    finish_run(lake, run, "ok", {})
    index = ContextIndex(lake)
    web = index.for_instance(inst + "i-1")
    assert web.exposure == (
        "public address with security groups open to the internet "
        "(ec2_instance_public_and_open_to_internet)",
    )
    assert web.admin_roles == (
        f"role {role}web is effectively admin (iam_principal_effective_admin)",
    )
    assert not index.for_instance(inst + "i-2")
