"""Pure transforms of the CloudWatch Logs metric filter, CloudWatch alarm and SNS subscription
collectors: CloudQuery's columns and key casing, pending subscriptions, redacted webhooks."""

from __future__ import annotations

from datetime import UTC, datetime

from opencwpp.collect.aws import cloudwatch, cloudwatch_logs, sns
from opencwpp.collect.aws._secrets import fingerprint
from opencwpp.lake.schema import cq_id

ACCOUNT = "000000000000"
REGION = "eu-west-1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"


def test_metric_filter_row_has_the_log_group_arn_and_pascal_case_transformations() -> None:
    item = {
        "filterName": "cis-root",
        "filterPattern": '{ $.userIdentity.type = "Root" }',
        "logGroupName": "cloudtrail-logs",
        "creationTime": 1700000000000,
        "metricTransformations": [
            {"metricName": "root", "metricNamespace": "CIS", "metricValue": "1"}
        ],
    }
    (row,) = cloudwatch_logs.transform_metric_filter(ACCOUNT, REGION, item)[
        cloudwatch_logs.METRIC_FILTERS
    ]
    assert row["log_group_arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:cloudtrail-logs"
    assert row["filter_pattern"] == item["filterPattern"]
    assert row["creation_time"] == 1700000000000
    assert row["metric_transformations"] == [
        {"MetricName": "root", "MetricNamespace": "CIS", "MetricValue": "1"}
    ]
    assert row["_cq_id"] == cq_id(row, ["log_group_arn", "filter_name"])


def test_metric_filter_arn_follows_the_partition() -> None:
    arn = cloudwatch_logs.log_group_arn(ACCOUNT, "cn-north-1", "g")
    assert arn == f"arn:aws-cn:logs:cn-north-1:{ACCOUNT}:log-group:g"


def test_alarm_row_keeps_actions_as_a_list_and_flattens_tags() -> None:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    alarm = {
        "AlarmName": "cis-root",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cis-root",
        "ActionsEnabled": True,
        "AlarmActions": [TOPIC],
        "OKActions": [],
        "MetricName": "root",
        "Namespace": "CIS",
        "Threshold": 1,
        "EvaluationPeriods": 1,
        "Dimensions": [{"Name": "k", "Value": "v"}],
        "StateUpdatedTimestamp": when,
    }
    (row,) = cloudwatch.transform_alarm(ACCOUNT, REGION, alarm, [{"Key": "t", "Value": "x"}])[
        cloudwatch.ALARMS
    ]
    assert row["arn"] == row["alarm_arn"] == alarm["AlarmArn"]
    assert row["alarm_actions"] == [TOPIC] and row["ok_actions"] == []
    assert row["insufficient_data_actions"] is None
    assert row["metric_name"] == "root" and row["namespace"] == "CIS"
    assert row["threshold"] == 1.0 and row["evaluation_periods"] == 1
    assert row["dimensions"] == [{"Name": "k", "Value": "v"}]
    assert row["state_updated_timestamp"] == when
    assert row["tags"] == {"t": "x"}


def _listed(arn: str, protocol: str = "email", endpoint: str = "a@example.com") -> dict[str, str]:
    return {
        "SubscriptionArn": arn,
        "Owner": ACCOUNT,
        "Protocol": protocol,
        "Endpoint": endpoint,
        "TopicArn": TOPIC,
    }


def test_pending_subscriptions_keep_cloudquerys_arn_and_get_distinct_ids() -> None:
    rows = [
        sns.transform_subscription(ACCOUNT, REGION, _listed(sns.PENDING, endpoint=e), None)[
            sns.SUBSCRIPTIONS
        ][0]
        for e in ("a@example.com", "b@example.com")
    ]
    assert all(r["arn"] == "PendingConfirmation" for r in rows)
    assert all(r["pending_confirmation"] is True for r in rows)
    assert rows[0]["topic_arn"] == TOPIC and rows[0]["endpoint"] == "a@example.com"
    assert rows[0]["_cq_id"] != rows[1]["_cq_id"]


def test_confirmed_subscription_takes_its_attributes() -> None:
    arn = f"{TOPIC}:1111-2222"
    attributes = {
        "SubscriptionArn": arn,
        "TopicArn": TOPIC,
        "Owner": ACCOUNT,
        "Protocol": "sqs",
        "Endpoint": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
        "PendingConfirmation": "false",
        "ConfirmationWasAuthenticated": "true",
        "RawMessageDelivery": "false",
        "FilterPolicy": '{"severity": ["high"]}',
        "FilterPolicyScope": "MessageAttributes",
    }
    listed = _listed(arn, "sqs", attributes["Endpoint"])
    (row,) = sns.transform_subscription(ACCOUNT, REGION, listed, attributes)[sns.SUBSCRIPTIONS]
    assert row["arn"] == row["subscription_arn"] == arn
    assert row["pending_confirmation"] is False and row["confirmation_was_authenticated"] is True
    assert row["filter_policy"] == {"severity": ["high"]}
    assert row["unknown_fields"] == {"FilterPolicyScope": "MessageAttributes"}
    assert row["endpoint"] == attributes["Endpoint"]
    assert row["_cq_id"] == cq_id({"arn": arn}, ["arn"])


def test_webhook_endpoints_keep_only_scheme_and_host() -> None:
    hook = "https://user:pw@hooks.example.com:8443/services/T0/B0/s3cr3t?sig=1"
    safe = sns.safe_endpoint("https", hook)
    assert safe == f"https://hooks.example.com:8443/{fingerprint(hook)}"
    assert "s3cr3t" not in str(safe) and "pw" not in str(safe)
    assert (
        sns.safe_endpoint("HTTP", "http://h/x?t=1") == f"http://h/{fingerprint('http://h/x?t=1')}"
    )
    assert sns.safe_endpoint("email", "sec@example.com") == "sec@example.com"
    assert sns.safe_endpoint("https", None) is None
    bad = "https://h:notaport/tok"
    assert sns.safe_endpoint("https", bad) == f"https://redacted/{fingerprint(bad)}"
