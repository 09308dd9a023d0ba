"""CloudWatch Logs metric filters, CloudWatch alarms and SNS subscriptions over HTTP against moto,
into the lake on DuckDB and PostgreSQL; then the CIS 4.x alarm checks on what was collected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from opencwpp.checks import builtin_checks
from opencwpp.checks.engine import run_check
from opencwpp.checks.views import names_with_views
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import Resource, load_resources
from opencwpp.collect.sync import SyncReport, sync_aws
from opencwpp.core.models import Status
from opencwpp.lake.lake import Lake

ACCOUNT = "616161616161"  # an account of its own, so other modules' estates stay apart
REGION = "us-east-1"
REGIONS = [REGION, "us-west-2"]
GROUP = "cloudtrail-logs"
NAMESPACE = "CISBenchmark"
# moto pages ListSubscriptions by 100 (DescribeMetricFilters and DescribeAlarms not at all).
EXTRA_SUBSCRIPTIONS = 105
CT_PATTERN = (
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail)"
    " || ($.eventName = StartLogging) || ($.eventName = StopLogging) }"
)
# 4.6 without the errorMessage term: must not count.
AUTH_PATTERN = "{ ($.eventName = ConsoleLogin) }"
ROOT_PATTERN = (
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS'
    ' && $.eventType != "AwsServiceEvent" }'
)
HOOK = "https://hooks.example.com/services/T000/B000/s3cr3tT0ken?sig=abc"


def _session(endpoint: str) -> boto3.Session:
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=REGION)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/setup", RoleSessionName="setup")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def _filter(logs: Any, name: str, pattern: str) -> None:
    logs.put_metric_filter(
        logGroupName=GROUP,
        filterName=name,
        filterPattern=pattern,
        metricTransformations=[
            {"metricName": name, "metricNamespace": NAMESPACE, "metricValue": "1"}
        ],
    )


def _alarm(cw: Any, name: str, actions: list[str]) -> None:
    cw.put_metric_alarm(
        AlarmName=name,
        MetricName=name,
        Namespace=NAMESPACE,
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=actions,
        Tags=[{"Key": "team", "Value": "secops"}],
    )


@pytest.fixture(scope="module")
def session(moto_endpoint: str) -> boto3.Session:
    """The estate: a trail to CloudWatch Logs, filters, alarms, topics and subscriptions."""
    s = _session(moto_endpoint)
    c = {n: s.client(n, endpoint_url=moto_endpoint) for n in ("logs", "cloudwatch", "sns")}
    s3, ct = (s.client(n, endpoint_url=moto_endpoint) for n in ("s3", "cloudtrail"))
    s3.create_bucket(Bucket=f"trail-{ACCOUNT}")
    c["logs"].create_log_group(logGroupName=GROUP)
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*"
    ct.create_trail(
        Name="main",
        S3BucketName=f"trail-{ACCOUNT}",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/ct-logs",
    )
    ct.start_logging(Name="main")
    ct.put_event_selectors(
        TrailName="main",
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    _filter(c["logs"], "cis-cloudtrail_changes", CT_PATTERN)
    _filter(c["logs"], "cis-console_auth_failures", AUTH_PATTERN)
    _filter(c["logs"], "cis-root_usage", ROOT_PATTERN)
    _filter(c["logs"], "noise", '{ $.eventName = "Noise" }')
    confirmed = c["sns"].create_topic(Name="alerts")["TopicArn"]
    # moto confirms every subscription at once: the root alarm's topic has none at all (the
    # PendingConfirmation listing is covered by the transform's unit test).
    silent = c["sns"].create_topic(Name="unsubscribed")["TopicArn"]
    c["sns"].subscribe(TopicArn=confirmed, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:1:q")
    c["sns"].subscribe(TopicArn=confirmed, Protocol="https", Endpoint=HOOK)
    c["sns"].subscribe(TopicArn=confirmed, Protocol="email", Endpoint="sec@example.com")
    _alarm(c["cloudwatch"], "cis-cloudtrail_changes", [confirmed])
    _alarm(c["cloudwatch"], "cis-console_auth_failures", [confirmed])
    _alarm(c["cloudwatch"], "cis-root_usage", [silent])
    _alarm(c["cloudwatch"], "noise", [])
    bulk = c["sns"].create_topic(Name="bulk")["TopicArn"]
    for i in range(EXTRA_SUBSCRIPTIONS):
        c["sns"].subscribe(TopicArn=bulk, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:1:q{i}")
    return s


def mine() -> list[Resource]:
    names = ("logs.metric_filters", "cloudwatch.alarms", "sns.", "cloudtrail.", "iam.account")
    return [r for r in load_resources() if r.name.startswith(names)]


@pytest.fixture
def synced(
    lake: Lake, moto_endpoint: str, session: boto3.Session
) -> Iterator[tuple[Lake, SyncReport]]:
    ctx = AwsContext(session, endpoint_url=moto_endpoint, account_id=ACCOUNT)
    yield lake, sync_aws(lake, ctx, REGIONS, resources=mine())


def _q(lake: Lake, sql: str, *params: Any) -> list[dict[str, Any]]:
    return lake.query(sql, list(params))


def test_metric_filters_alarms_and_subscriptions_round_trip(
    synced: tuple[Lake, SyncReport],
) -> None:
    lake, report = synced
    assert not report.failed
    filters = _q(
        lake,
        "SELECT filter_name, filter_pattern, log_group_arn, metric_transformations "
        "FROM aws_cloudwatchlogs_metric_filters WHERE account_id = ? AND filter_name LIKE ? "
        "ESCAPE '\\'",
        ACCOUNT,
        "cis-%",
    )
    by_name = {f["filter_name"]: f for f in filters}
    assert set(by_name) == {"cis-cloudtrail_changes", "cis-console_auth_failures", "cis-root_usage"}
    ct = by_name["cis-cloudtrail_changes"]
    assert ct["filter_pattern"] == CT_PATTERN
    assert ct["log_group_arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}"
    assert "MetricNamespace" in str(ct["metric_transformations"])  # CloudQuery's key casing
    counts = _q(
        lake,
        "SELECT (SELECT count(*) FROM aws_cloudwatchlogs_metric_filters WHERE account_id = ?) "
        "AS filters, (SELECT count(*) FROM aws_cloudwatch_alarms WHERE account_id = ?) AS alarms",
        ACCOUNT,
        ACCOUNT,
    )
    assert counts == [{"filters": 4, "alarms": 4}]
    alarm = _q(
        lake,
        "SELECT region, metric_name, namespace, alarm_actions, tags, threshold "
        "FROM aws_cloudwatch_alarms WHERE alarm_name = ?",
        "cis-root_usage",
    )
    assert len(alarm) == 1 and alarm[0]["region"] == REGION
    assert alarm[0]["metric_name"] == "cis-root_usage" and alarm[0]["namespace"] == NAMESPACE
    assert list(alarm[0]["alarm_actions"]) == [f"arn:aws:sns:{REGION}:{ACCOUNT}:unsubscribed"]
    assert "secops" in str(alarm[0]["tags"]) and alarm[0]["threshold"] == 1.0
    subs = _q(
        lake,
        "SELECT arn, topic_arn, protocol, endpoint, pending_confirmation "
        "FROM aws_sns_subscriptions WHERE account_id = ? AND topic_arn LIKE ? ESCAPE '\\' "
        "ORDER BY protocol",
        ACCOUNT,
        "%:alerts",
    )
    assert [s["protocol"] for s in subs] == ["email", "https", "sqs"]
    email, https, _ = subs
    assert {s["topic_arn"] for s in subs} == {f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"}
    assert email["arn"].startswith(email["topic_arn"] + ":") and not email["pending_confirmation"]
    # A webhook URL can carry its token: only the scheme and host are kept.
    assert https["endpoint"].startswith("https://hooks.example.com/redacted:sha256:")
    assert "s3cr3t" not in str(subs)
    bulk = _q(
        lake,
        "SELECT count(*) AS n FROM aws_sns_subscriptions WHERE account_id = ? AND topic_arn = ?",
        ACCOUNT,
        f"arn:aws:sns:{REGION}:{ACCOUNT}:bulk",
    )
    assert bulk == [{"n": EXTRA_SUBSCRIPTIONS}]  # every page of ListSubscriptions


def test_the_cis_alarm_checks_judge_what_was_collected(synced: tuple[Lake, SyncReport]) -> None:
    lake, _ = synced
    present = names_with_views(lake)
    checks = builtin_checks()
    got: dict[str, tuple[Status, str]] = {}
    for key in ("cloudtrail_changes", "console_auth_failures", "root_usage", "vpc_changes"):
        findings = run_check(lake, checks.get(f"cloudwatch_alarm_{key}"), present)
        mine_ = [f for f in findings if f.resource.uid == f"arn:aws:iam::{ACCOUNT}:root"]
        assert len(mine_) == 1, findings
        got[key] = (mine_[0].status, mine_[0].status_reason)
    assert got["cloudtrail_changes"][0] is Status.PASS, got
    assert got["console_auth_failures"][0] is Status.FAIL
    assert 'lacks $.errorMessage="Failed authentication"' in got["console_auth_failures"][1]
    assert got["root_usage"][0] is Status.FAIL
    assert "confirmed subscription" in got["root_usage"][1]
    assert got["vpc_changes"][0] is Status.FAIL
