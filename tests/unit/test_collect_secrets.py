"""Secret detection and redaction: values never reach rows, near-misses stay quiet."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from opencwpp.collect.aws._secrets import (
    classify,
    decode_user_data,
    entropy,
    exposure_rows,
    fingerprint,
    redact_environment,
    scan_text,
)
from opencwpp.collect.aws.lambda_ import EXPOSURES, FUNCTIONS, transform_function

ACCESS_KEY = "AKIA" + "Q3EXAMPLEKEY7ABC"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
PASSWORD = "pR0d-Xk29!vLq7#mZt4w"


def test_fingerprint_is_stable_short_and_hides_the_value() -> None:
    fp = fingerprint(PASSWORD)
    assert fp == fingerprint(PASSWORD)
    assert fp.startswith("redacted:sha256:") and len(fp) == len("redacted:sha256:") + 12
    assert PASSWORD not in fp and fp != fingerprint(PASSWORD + "x")


@pytest.mark.parametrize(
    ("value", "name", "kind"),
    [
        (ACCESS_KEY, "", "aws_access_key_id"),
        ("ASIA" + "Y3EXAMPLEKEY7XYZ", "ANY", "aws_access_key_id"),
        (SECRET_KEY, "AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "", "private_key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "KEY", "private_key"),
        ("ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "", "github_token"),
        ("xoxb-" + "123456789012-abcdefghijkl", "", "slack_token"),
        (PASSWORD, "DB_PASSWORD", "password"),
        ("Zk3vQ9pL2mX7wR4t", "API_TOKEN", "generic_secret"),
    ],
)
def test_secrets_are_classified(value: str, name: str, kind: str) -> None:
    assert classify(value, name) == kind


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("debug", "LOG_LEVEL"),
        (PASSWORD, "GREETING"),  # high entropy but nothing says it is a secret
        ("changeme", "DB_PASSWORD"),  # too low entropy / too short to be a real password
        ("arn:aws:secretsmanager:us-east-1:1:secret:db", "DB_PASSWORD_ARN"),
        ("{{resolve:secretsmanager:db}}", "DB_PASSWORD"),
        ("AKIAshort", ""),
        ("XAKIA" + "Q3EXAMPLEKEY7ABCD", ""),  # embedded in a longer token
    ],
)
def test_near_misses_stay_quiet(value: str, name: str) -> None:
    assert classify(value, name) is None


def test_entropy() -> None:
    assert entropy("") == 0.0
    assert entropy("aaaa") == 0.0
    assert entropy("abcd") == 2.0


def test_environment_is_redacted_and_secrets_reported() -> None:
    redacted, found = redact_environment(
        {"DB_PASSWORD": PASSWORD, "LOG_LEVEL": "debug"}, "lambda.environment"
    )
    assert set(redacted) == {"DB_PASSWORD", "LOG_LEVEL"}
    assert redacted["LOG_LEVEL"] == fingerprint("debug")
    assert [(e.location, e.kind) for e in found] == [("lambda.environment.DB_PASSWORD", "password")]
    assert PASSWORD not in json.dumps(redacted)


def test_scan_text_finds_patterns_and_assignments_with_line_numbers() -> None:
    script = (
        f"#!/bin/sh\nexport AWS_ACCESS_KEY_ID={ACCESS_KEY}\necho hi\nDB_PASSWORD='{PASSWORD}'\n"
    )
    found = {(e.location, e.kind) for e in scan_text(script, "ec2.user_data")}
    assert found == {
        ("ec2.user_data:line 2", "aws_access_key_id"),
        ("ec2.user_data:line 4:DB_PASSWORD", "password"),
    }
    assert scan_text("#!/bin/sh\nLOG_LEVEL=debug\napt-get install -y nginx\n", "u") == []


def test_user_data_decoding_plain_gzip_and_garbage() -> None:
    text = "#!/bin/bash\necho ok\n"
    assert decode_user_data(base64.b64encode(text.encode()).decode()) == text
    assert decode_user_data(base64.b64encode(gzip.compress(text.encode())).decode()) == text
    assert decode_user_data(None) == ""
    assert decode_user_data(base64.b64encode(b"\x1f\x8bnot gzip").decode()) == ""


def test_no_planted_secret_reaches_lambda_rows() -> None:
    details = {
        "Configuration": {
            "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
            "Runtime": "python3.12",
            "Environment": {
                "Variables": {"DB_PASSWORD": PASSWORD, "AWS_KEY": ACCESS_KEY, "MODE": "x"}
            },
        },
        "Code": {
            "RepositoryType": "S3",
            "Location": "https://presigned.example/?X-Amz-Signature=s",
        },
        "Tags": {"team": "a"},
    }
    rows = transform_function("000000000000", "us-east-1", details)
    dump = json.dumps({t.name: r for t, r in rows.items()}, default=str)
    assert PASSWORD not in dump and ACCESS_KEY not in dump and "X-Amz-Signature" not in dump
    function = rows[FUNCTIONS][0]
    assert function["configuration"]["Environment"]["Variables"]["MODE"].startswith("redacted:")
    assert function["code_repository_type"] == "S3"
    kinds = {(r["location"], r["kind"]) for r in rows[EXPOSURES]}
    assert kinds == {
        ("lambda.environment.DB_PASSWORD", "password"),
        ("lambda.environment.AWS_KEY", "aws_access_key_id"),
    }
    assert all(r["source_table"] == "aws_lambda_functions" for r in rows[EXPOSURES])


def test_exposure_rows_carry_the_fingerprint_only() -> None:
    found = scan_text(f"KEY={ACCESS_KEY}", "ec2.user_data")
    rows = exposure_rows(
        found, account_id="1", region="r", source_table="aws_ec2_instances", resource_arn="a"
    )
    assert rows[0]["fingerprint"] == fingerprint(ACCESS_KEY)
    assert ACCESS_KEY not in json.dumps(rows)
