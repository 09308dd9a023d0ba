"""The AWS session context keeps memory bounded: lean botocore models, a bounded client cache."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import boto3
import pytest

from opencwpp.collect.aws import session as aws_session
from opencwpp.collect.aws.session import AwsContext, LeanModelLoader

_MODEL = {
    "documentation": "A service. " * 50,
    "metadata": {"serviceId": "Demo"},
    "clientContextParams": {"Flag": {"type": "boolean", "documentation": "Some flag."}},
    "shapes": {
        "Note": {
            "type": "structure",
            "documentation": "<p>A note.</p>",
            # A member named "documentation" is API data, not documentation text.
            "members": {"documentation": {"shape": "Text", "documentation": "Its text."}},
        },
        "Text": {"type": "string"},
    },
}


def _context() -> AwsContext:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return AwsContext(session, endpoint_url="http://127.0.0.1:9", account_id="123456789012")


def test_service_models_load_as_plain_dicts_with_documentation_emptied(tmp_path: Path) -> None:
    (tmp_path / "service-2.json.gz").write_bytes(gzip.compress(json.dumps(_MODEL).encode()))
    model = LeanModelLoader().load_file(str(tmp_path / "service-2"))
    assert type(model) is dict and type(model["shapes"]["Note"]) is dict
    assert model["documentation"] == ""
    # botocore indexes `documentation` of client context parameters: the key stays.
    assert model["clientContextParams"]["Flag"] == {"type": "boolean", "documentation": ""}
    member = model["shapes"]["Note"]["members"]["documentation"]
    assert member == {"shape": "Text", "documentation": ""}


def test_other_model_files_keep_their_documentation(tmp_path: Path) -> None:
    (tmp_path / "endpoint-rule-set-1.json").write_text(json.dumps(_MODEL))
    model = LeanModelLoader().load_file(str(tmp_path / "endpoint-rule-set-1"))
    assert model["documentation"].startswith("A service.")
    assert LeanModelLoader().load_file(str(tmp_path / "absent")) is None


def test_contexts_load_lean_models_and_clients_still_work() -> None:
    ctx = _context()
    loader = ctx.session._session.get_component("data_loader")
    assert isinstance(loader.file_loader, LeanModelLoader)
    client = ctx.client("ec2", "eu-west-1")
    operation = client.meta.service_model.operation_model("DescribeInstances")
    assert operation.output_shape.members["Reservations"].type_name == "list"
    assert operation.documentation == ""
    assert client.can_paginate("describe_instances")


def test_clients_are_shared_and_the_least_recently_used_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aws_session, "MAX_LIVE_CLIENTS", 3)
    ctx = _context()
    sqs_east = ctx.client("sqs", "us-east-1")
    sns_east = ctx.client("sns", "us-east-1")
    ctx.client("sqs", "eu-west-1")
    assert ctx.client("sqs", "us-east-1") is sqs_east  # used again: now the most recent
    ctx.client("sns", "eu-west-1")  # a fourth: drops the least recently used (sns us-east-1)
    assert ctx.client("sqs", "us-east-1") is sqs_east
    fresh = ctx.client("sns", "us-east-1")
    assert fresh is not sns_east
    assert fresh.meta.region_name == "us-east-1"
