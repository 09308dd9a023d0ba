"""One scale unit's application services: Lambda, SQS, SNS, ECR and Secrets Manager."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from bench.peers.estate._base import FOREIGN_ACCOUNT, Estate, doc, res, unit_prefix


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()


_CODE = _zip()
_LEAKY_ENV = {
    "DB_HOST": "billing.cluster-local",
    "DB_PASSWORD": "h7Rk!2vQz9mWp4Ls",
    "AWS_SECRET_ACCESS_KEY": "Jx8fK2mQ9vLr4Tz1Wc7Yb3Nd6Hs0Pa5Ge8Ui2OkE",
}
_CLEAN_ENV = {
    "LOG_LEVEL": "info",
    "TABLE_NAME": "thumbnails",
    "MAX_WIDTH": "1024",
}


def functions(e: Estate, unit: int) -> None:
    """Five functions: leaky environment, public policy and URL, old runtimes, a clean one."""
    p, region = unit_prefix(unit), e.region(unit, 1)
    lam = e.client("lambda", region)
    secrets = "lambda_secrets_in_environment"
    public, url, old = (
        "lambda_public_resource_policy",
        "lambda_url_without_auth",
        "lambda_deprecated_runtime",
    )

    def function(name: str, runtime: str, env: dict[str, str]) -> Any:
        arn = lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=e.role_arns[unit],
            Handler="index.handler",
            Code={"ZipFile": _CODE},
            Environment={"Variables": env},
        )["FunctionArn"]
        e.made()
        return res("lambda_function", arn, name, region)

    r = function(f"{p}-billing-sync", "python3.13", _LEAKY_ENV)
    e.bad(secrets, r)
    e.good(old, r)
    clean = dict(
        _CLEAN_ENV, SECRET_ARN=f"arn:aws:secretsmanager:{region}:{e.account}:secret:{p}-db"
    )
    r = function(f"{p}-thumbnailer", "python3.13", clean)
    lam.add_permission(
        FunctionName=r.name,
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceAccount=e.account,
        SourceArn=f"arn:aws:s3:::{p}-hardened",
    )
    lam.create_function_url_config(FunctionName=r.name, AuthType="AWS_IAM")
    for kind in (secrets, public, url, old):
        e.good(kind, r)
    r = function(f"{p}-webhook", "nodejs22.x", {"LOG_LEVEL": "warn"})
    lam.add_permission(
        FunctionName=r.name, StatementId="anyone", Action="lambda:InvokeFunction", Principal="*"
    )
    lam.create_function_url_config(FunctionName=r.name, AuthType="NONE")
    e.bad(public, r)
    e.bad(url, r)
    e.good(secrets, r)
    for name, runtime in ((f"{p}-legacy-report", "python3.7"), (f"{p}-legacy-pdf", "nodejs16.x")):
        r = function(name, runtime, {"LOG_LEVEL": "info"})
        e.bad(old, r, f"{runtime} reached end of support")


def queues_and_topics(e: Estate, unit: int) -> None:
    """Three queues and two topics: public and plain, pinned to a source, encrypted."""
    p, region = unit_prefix(unit), e.region(unit, 0)
    sqs, sns = e.client("sqs", region), e.client("sns", region)
    key = e.key_arns[unit]
    topic_public = sns.create_topic(Name=f"{p}-alerts-public")["TopicArn"]
    topic = sns.create_topic(Name=f"{p}-alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})[
        "TopicArn"
    ]
    e.made(2)
    sns.set_topic_attributes(
        TopicArn=topic_public,
        AttributeName="Policy",
        AttributeValue=doc(
            {
                "Sid": "Anyone",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["SNS:Publish", "SNS:Subscribe"],
                "Resource": topic_public,
            }
        ),
    )
    r = res("sns_topic", topic_public, f"{p}-alerts-public", region)
    e.bad("sns_topic_public_policy", r)
    e.bad("sns_topic_unencrypted", r)
    r = res("sns_topic", topic, f"{p}-alerts", region)
    e.good("sns_topic_public_policy", r, "the default policy: this account's principals only")
    e.good("sns_topic_unencrypted", r)

    def queue(name: str, attributes: dict[str, str], statement: dict[str, Any] | None) -> Any:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{region}:{e.account}:{name}"
        if statement:
            statement["Resource"] = arn
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": doc(statement)})
        e.made()
        return res("sqs_queue", arn, name, region, url)

    send = {"Sid": "Send", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"}
    r = queue(f"{p}-orders-public", {"SqsManagedSseEnabled": "false"}, dict(send))
    e.bad("sqs_queue_public_policy", r)
    e.bad("sqs_queue_unencrypted", r)
    pinned = dict(send, Condition={"ArnEquals": {"aws:SourceArn": topic}})
    r = queue(f"{p}-events-from-sns", {"KmsMasterKeyId": key}, pinned)
    e.good("sqs_queue_public_policy", r, "only deliveries from this account's topic")
    e.good("sqs_queue_unencrypted", r)
    r = queue(f"{p}-jobs", {"SqsManagedSseEnabled": "true"}, None)
    e.good("sqs_queue_unencrypted", r, "SSE-SQS: encrypted at rest with SQS-owned keys")


def repositories(e: Estate, unit: int) -> None:
    """Two image repositories: unscanned, mutable and public; scanned, immutable, shared."""
    p, region = unit_prefix(unit), e.region(unit, 1)
    ecr = e.client("ecr", region)
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    for role, bad, principal in (
        ("api-image", True, "*"),
        ("worker-image", False, {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"}),
    ):
        name = f"{p}-{role}"
        repo = ecr.create_repository(
            repositoryName=name,
            imageScanningConfiguration={"scanOnPush": not bad},
            imageTagMutability="MUTABLE" if bad else "IMMUTABLE",
        )["repository"]
        policy = {"Sid": "Pull", "Effect": "Allow", "Principal": principal, "Action": pull}
        ecr.set_repository_policy(
            repositoryName=name,
            policyText=json.dumps({"Version": "2012-10-17", "Statement": [policy]}),
        )
        e.made()
        r = res("ecr_repository", repo["repositoryArn"], name, region)
        for kind in (
            "ecr_scan_on_push_disabled",
            "ecr_tags_mutable",
            "ecr_repository_public_policy",
        ):
            (e.bad if bad else e.good)(kind, r)


def secrets(e: Estate, unit: int) -> None:
    """Two secrets: one never rotated, one rotated every 30 days by a rotation function."""
    p, region = unit_prefix(unit), e.region(unit, 0)
    sm, lam = e.client("secretsmanager", region), e.client("lambda", region)
    rotator = lam.create_function(
        FunctionName=f"{p}-secret-rotator",
        Runtime="python3.13",
        Role=e.role_arns[unit],
        Handler="index.handler",
        Code={"ZipFile": _CODE},
    )["FunctionArn"]
    e.made()
    kind = "secret_rotation_disabled"
    for role, rotate in (("db-credentials", False), ("api-token", True)):
        name = f"{p}-{role}"
        arn = sm.create_secret(Name=name, SecretString=json.dumps({"value": f"bench-{p}"}))["ARN"]
        e.made()
        if rotate:
            sm.rotate_secret(
                SecretId=name,
                RotationLambdaARN=rotator,
                RotationRules={"AutomaticallyAfterDays": 30},
                RotateImmediately=False,
            )
        (e.good if rotate else e.bad)(kind, res("secret", arn, name, region))
