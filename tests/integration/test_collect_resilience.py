"""The collector when the estate is big or the run is cut short, over HTTP against moto:
every page is followed, and a sync killed half way leaves each scope whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import sync_aws
from opencwpp.lake.lake import Lake
from tests.integration.test_collect_accounts import Answer, proxy
from tests.integration.test_collect_detection_services import account_session

PAGED = "333344445555"
KILLED = "777788889999"
REGION = "us-east-1"


def _resources(*names: str) -> list[Any]:
    return [r for r in load_resources() if r.name in names]


@pytest.fixture(scope="module")
def paged(moto_endpoint: str) -> boto3.Session:
    """An account with more parameters and roles than one page of their list calls holds."""
    session = account_session(moto_endpoint, PAGED)
    ssm = session.client("ssm", endpoint_url=moto_endpoint)
    for i in range(120):  # DescribeParameters pages hold at most 50
        ssm.put_parameter(Name=f"/app/p{i:03}", Value="v", Type="String")
    iam = session.client("iam", endpoint_url=moto_endpoint)
    trust = '{"Version":"2012-10-17","Statement":[]}'
    for i in range(230):  # GetAccountAuthorizationDetails pages hold 100 by default
        iam.create_role(RoleName=f"role-{i:03}", AssumeRolePolicyDocument=trust)
    return session


def test_every_page_is_followed(lake: Lake, moto_endpoint: str, paged: boto3.Session) -> None:
    ctx = AwsContext(paged, endpoint_url=moto_endpoint, account_id=PAGED)
    report = sync_aws(lake, ctx, [REGION], resources=_resources("ssm.parameters", "iam.roles"))
    assert not report.failed and not report.not_assessed
    params = lake.query(
        "SELECT name FROM aws_ssm_parameters WHERE account_id = ? ORDER BY name", [PAGED]
    )
    assert [p["name"] for p in params] == [f"/app/p{i:03}" for i in range(120)]
    roles = lake.query(
        "SELECT count(*) AS n FROM aws_iam_roles WHERE account_id = ? AND role_name LIKE ?",
        [PAGED, "role-%"],
    )
    assert roles == [{"n": 230}]


def _hang_on(operation: str, reached: threading.Event, release: threading.Event) -> Any:
    def rule(op: str, form: dict[str, list[str]]) -> Answer | None:
        if op == operation:
            reached.set()
            release.wait(60)
            return 500, "text/plain", b"gone"
        return None

    return rule


def test_a_sync_killed_half_way_keeps_each_scope_whole(tmp_path: Path, moto_endpoint: str) -> None:
    session = account_session(moto_endpoint, KILLED)
    sqs = session.client("sqs", endpoint_url=moto_endpoint)
    sns = session.client("sns", endpoint_url=moto_endpoint)
    for i in range(3):
        sqs.create_queue(QueueName=f"q{i}")
        sns.create_topic(Name=f"t{i}")
    url = f"duckdb:///{tmp_path}/lake.duckdb"
    ctx = AwsContext(session, endpoint_url=moto_endpoint, account_id=KILLED)
    with Lake.open(url) as lake:
        sync_aws(lake, ctx, [REGION], resources=_resources("sqs.queues", "sns.topics"))
    sqs.create_queue(QueueName="q-new")
    sns.create_topic(Name="t-new")

    creds = session.get_credentials().get_frozen_credentials()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": creds.access_key,
        "AWS_SECRET_ACCESS_KEY": creds.secret_key,
        "AWS_SESSION_TOKEN": creds.token,
    }
    reached, release = threading.Event(), threading.Event()
    with proxy(moto_endpoint, _hang_on("ListTopics", reached, release)) as endpoint:
        args = ["sync", "aws", "--endpoint-url", endpoint, "--regions", REGION, "--lake", url]
        code = "import sys; from opencwpp.cli import main; sys.argv[0] = 'cwpp'; main()"
        child = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert reached.wait(120), "the sync never reached SNS"
            time.sleep(2)  # other units go on being written meanwhile
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        finally:
            release.set()
            if child.poll() is None:
                child.kill()
    assert child.returncode == -signal.SIGKILL

    with Lake.open(url) as lake:
        topics = lake.query(
            "SELECT arn FROM aws_sns_topics WHERE account_id = ? ORDER BY arn", [KILLED]
        )
        queues = lake.query(
            "SELECT url FROM aws_sqs_queues WHERE account_id = ? ORDER BY url", [KILLED]
        )
        status = lake.query(
            "SELECT count(DISTINCT run_id) AS runs FROM cwpp_sync_scopes "
            "WHERE account_id = ? AND table_name = ?",
            [KILLED, "aws_sns_topics"],
        )
    # The scope being fetched when the process died is the previous sync's, whole.
    assert [t["arn"].rsplit(":", 1)[1] for t in topics] == ["t0", "t1", "t2"]
    assert status == [{"runs": 1}]
    # A scope is either the old snapshot or the new one, never a mix or empty.
    names = [q["url"].rsplit("/", 1)[1] for q in queues]
    assert names in (["q0", "q1", "q2"], ["q-new", "q0", "q1", "q2"])
