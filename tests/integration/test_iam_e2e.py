"""End to end on a moto estate: a user who can pass an admin instance role to EC2, synced with the
collector, found by `cwpp iam paths` (Typer's runner on the iam app); a twin role with the same
policy but a permissions boundary is not (moto cannot put a boundary on a user)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from opencwpp.cli.iam_commands import app
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.sync import sync_aws
from opencwpp.lake import Lake

REGION = "us-east-1"
# An account of its own in the shared moto server, so other tests' roles don't join the graph.
ACCOUNT = "210987654321"
IAM_RESOURCES = ["iam.users", "iam.groups", "iam.roles", "iam.policies"]
runner = CliRunner(env={"COLUMNS": "250"})


def _doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def privesc_lake(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    sts = boto3.client("sts", endpoint_url=moto_endpoint, region_name=REGION)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/setup", RoleSessionName="e2e")[
        "Credentials"
    ]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )
    iam = session.client("iam", endpoint_url=moto_endpoint)
    admin = iam.create_policy(
        PolicyName="e2e-all",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )["Policy"]["Arn"]
    cap = iam.create_policy(
        PolicyName="e2e-cap",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}),
    )["Policy"]["Arn"]
    trust = _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    role = iam.create_role(RoleName="e2e-admin-box", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.attach_role_policy(RoleName="e2e-admin-box", PolicyArn=admin)
    passer = _doc(
        {"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}
    )
    iam.create_user(UserName="e2e-dev")
    iam.put_user_policy(UserName="e2e-dev", PolicyName="launch", PolicyDocument=passer)
    account = _doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})
    iam.create_role(
        RoleName="e2e-capped", AssumeRolePolicyDocument=account, PermissionsBoundary=cap
    )
    iam.put_role_policy(RoleName="e2e-capped", PolicyName="launch", PolicyDocument=passer)
    assert role.endswith(":role/e2e-admin-box")
    url = f"duckdb://{tmp_path_factory.mktemp('iam-e2e') / 'lake.duckdb'}"
    with Lake.open(url) as lake:
        context = AwsContext(session, endpoint_url=moto_endpoint)
        sync_aws(lake, context, [REGION], resources=IAM_RESOURCES)
    return url


def test_paths_shows_the_passrole_path(privesc_lake: str) -> None:
    result = runner.invoke(app, ["paths", "--lake", privesc_lake, "-f", "json"])
    assert result.exit_code == 0, result.output
    paths = json.loads(result.output)
    dev = next(arn for arn in paths if arn.endswith(":user/e2e-dev"))
    (step,) = paths[dev]
    assert step["technique"] == "ec2-001"
    assert step["to"].endswith(":role/e2e-admin-box")
    by_action = {a["action"]: a for a in step["actions"]}
    assert set(by_action) == {"iam:PassRole", "ec2:RunInstances"}
    assert by_action["iam:PassRole"]["resource"].endswith(":role/e2e-admin-box")
    assert by_action["iam:PassRole"]["statements"][0]["policy"] == "inline:user/e2e-dev/launch"
    assert not any(arn.endswith(":role/e2e-capped") for arn in paths)


def test_paths_table_for_one_principal_and_can(privesc_lake: str) -> None:
    result = runner.invoke(app, ["paths", "e2e-dev", "--lake", privesc_lake])
    assert result.exit_code == 0, result.output
    # The table's width depends on the console the first import made: compare words, not cells.
    words = " ".join(result.output.split())
    assert "Paths to admin" in words and "1 principal(s) can become admin" in words
    can = runner.invoke(
        app,
        [
            *("can", "e2e-capped", "iam:PassRole"),
            *("arn:aws:iam::210987654321:role/e2e-admin-box", "--lake", privesc_lake),
        ],
    )
    assert can.exit_code == 1 and "ImplicitDeny" in can.output
    unknown = runner.invoke(app, ["paths", "nobody", "--lake", privesc_lake])
    assert unknown.exit_code != 0


def test_bad_scp_file_is_one_clear_error(privesc_lake: str, tmp_path: Path) -> None:
    bad = tmp_path / "scp.json"
    bad.write_text('{"not": "a list"}')
    result = runner.invoke(app, ["paths", "--lake", privesc_lake, "--scp", str(bad)])
    assert result.exit_code != 0
    assert "SCPs must be a JSON list" in str(result.exception)
