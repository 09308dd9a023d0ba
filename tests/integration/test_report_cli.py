"""`cwpp report` (new formats, filters, --send securityhub) and `cwpp diff`: lakes and moto."""

import json
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from opencwpp.cli import report_commands
from opencwpp.collect.aws.session import AwsContext
from opencwpp.core.errors import UsageError
from opencwpp.lake import Lake
from opencwpp.report.history import list_runs, load_diff, trend
from opencwpp.report.securityhub import send_to_securityhub
from opencwpp.report.synthetic import synthetic_findings
from tests.integration.test_web_dashboard import seed_lake

runner = CliRunner()


@pytest.fixture
def seeded(lake_url: str) -> str:
    with Lake.open(lake_url) as lake:
        seed_lake(lake)
    return lake_url


def test_history_diff_and_trend_on_both_backends(seeded: str) -> None:
    with Lake.open(seeded) as lake:
        runs = list_runs(lake)
        assert [r.kind for r in runs] == ["assess", "assess"]
        diff = load_diff(lake)
        assert (diff.run_a, diff.run_b) == (runs[1].run_id, runs[0].run_id)
        assert [c.check_id for c in diff.new] == ["kms_key_rotation"]
        assert [c.check_id for c in diff.resolved] == ["iam_user_console_mfa"]
        assert diff.resolved[0].resource == "bob"
        points = trend(lake)
        assert [p.failing for p in points] == [
            {"critical": 1, "high": 1},
            {"critical": 1, "medium": 1},
        ]
        with pytest.raises(UsageError, match="unknown run"):
            load_diff(lake, "nope", runs[0].run_id)


def test_diff_command(seeded: str) -> None:
    result = runner.invoke(report_commands.app, ["diff", "--lake", seeded])
    assert result.exit_code == 0, result.output
    assert "1 new, 1 resolved, 0 changed" in result.output
    assert "kms_key_rotation" in result.output and "RESOLVED" in result.output
    listed = runner.invoke(report_commands.app, ["diff", "--list", "--lake", seeded])
    assert listed.output.count("assess") == 2 and "detect" in listed.output


def test_diff_needs_two_runs(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'empty.duckdb'}"
    result = runner.invoke(report_commands.app, ["diff", "--lake", url])
    assert isinstance(result.exception, UsageError)


@pytest.mark.parametrize("fmt", ["sarif", "ocsf", "asff", "junit", "markdown", "html"])
def test_report_command_writes_every_new_format(seeded: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(
        report_commands.app, ["report", "-f", fmt, "-o", str(out), "--lake", seeded]
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    if fmt == "html":
        page = out.read_text()
        assert "What changed since the last run" in page and '<svg class="chart trend"' in page


def test_report_command_filters(seeded: str, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["report", "-f", "json", "-o", str(out), "--lake", seeded]
    runner.invoke(report_commands.app, [*args, "--framework", "cis-aws-3.0", "--status", "FAIL"])
    checks = {f["check_id"] for f in json.loads(out.read_text())["findings"]}
    assert checks == {"s3_bucket_public_acl", "kms_key_rotation"}
    runner.invoke(report_commands.app, [*args, "--account", "999999999999"])
    assert json.loads(out.read_text())["findings"] == []
    runner.invoke(report_commands.app, [*args, "--region", "eu-west-1", "--since", "1d"])
    assert len(json.loads(out.read_text())["findings"]) == 4
    bad = runner.invoke(report_commands.app, [*args, "--since", "soon"])
    assert isinstance(bad.exception, UsageError)


def test_report_command_severity_pillar_and_check_filters(seeded: str, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["report", "-f", "json", "-o", str(out), "--lake", seeded]

    def checks(*extra: str) -> list[str]:
        result = runner.invoke(report_commands.app, [*args, *extra])
        assert result.exit_code == 0, result.output
        return sorted(f["check_id"] for f in json.loads(out.read_text())["findings"])

    assert checks("--severity", "high") == [
        "iam_user_console_mfa",
        "s3_bucket_public_acl",
        "sigma_cloudtrail_stop_logging",
    ]  # a minimum: medium kms_key_rotation is left out
    assert checks("--severity", "critical") == ["s3_bucket_public_acl"]
    assert checks("--pillar", "data-encryption") == ["kms_key_rotation"]
    assert checks("--pillar", "threat-detection", "--pillar", "data-encryption") == [
        "kms_key_rotation",
        "sigma_cloudtrail_stop_logging",
    ]
    assert checks("--check", "kms_key_rotation") == ["kms_key_rotation"]
    assert checks("--check", "no_such_check") == []
    bad = runner.invoke(report_commands.app, [*args, "--severity", "bogus"])
    assert isinstance(bad.exception, UsageError)
    bad = runner.invoke(report_commands.app, [*args, "--pillar", "bogus"])
    assert isinstance(bad.exception, UsageError)


def test_send_to_securityhub_imports_into_moto(moto_endpoint: str) -> None:
    context = AwsContext(boto3.Session(region_name="eu-west-1"), endpoint_url=moto_endpoint)
    findings = synthetic_findings(250)  # three batches of at most 100
    result = send_to_securityhub(findings, context)
    assert (result.sent, result.failed, result.errors) == (250, 0, [])
    hub = context.client("securityhub", "eu-west-1")
    stored = []
    for page in hub.get_paginator("get_findings").paginate():
        stored.extend(page["Findings"])
    ours = [f for f in stored if f["GeneratorId"].startswith("opencwpp/")]
    assert len({f["Id"] for f in ours}) == 250
    account = context.account_id
    assert {f["AwsAccountId"] for f in ours} == {account}
    assert {f["ProductArn"] for f in ours} == {
        f"arn:aws:securityhub:eu-west-1:{account}:product/{account}/default"
    }
    hostile = [f for f in ours if "<img" in json.dumps(f["Resources"])]
    assert hostile  # tags travel as data


def test_report_send_securityhub_from_the_command(
    seeded: str, moto_endpoint: str, tmp_path: Path
) -> None:
    result = runner.invoke(
        report_commands.app,
        [
            "report",
            "--send",
            "securityhub",
            "--endpoint-url",
            moto_endpoint,
            "--lake",
            seeded,
            "--status",
            "FAIL",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sent 3 findings to Security Hub (0 rejected)" in result.output
    nothing = runner.invoke(report_commands.app, ["report", "--lake", seeded])
    assert isinstance(nothing.exception, UsageError)
