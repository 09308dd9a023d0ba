"""The `cwpp` command end to end, as a user runs it: a real process, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opencwpp.demo.estate import EstateManifest

CWPP = [sys.executable, "-m", "opencwpp"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "CWPP_")) and k not in ("XDG_DATA_HOME", "XDG_CONFIG_HOME")
    }
    env.update(
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        COLUMNS="200",
    )
    env.update(extra)
    return env


def cwpp(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CWPP, *args],
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_demo_runs_offline_and_writes_a_report(tmp_path: Path) -> None:
    done = cwpp(tmp_path, "demo", "-o", "report.html")
    assert done.returncode == 0, done.stderr
    assert "failing of" in done.stdout
    assert "Failing findings by pillar and severity" in done.stdout
    # No emulator noise: services moto lacks are not synced by the demo.
    assert "Traceback" not in done.stdout + done.stderr
    assert "Unable to find appropriate backend" not in done.stdout
    report = (tmp_path / "report.html").read_text()
    assert "s3_bucket_public_acl" in report
    assert "<script>alert(1)</script>" not in report
    # The default lake is a DuckDB file in the XDG data dir, and findings can be queried.
    assert (tmp_path / "data" / "opencwpp" / "lake.duckdb").is_file()
    listed = cwpp(tmp_path, "findings", "--severity", "critical")
    assert listed.returncode == 0, listed.stderr
    assert "s3_bucket_public_acl" in listed.stdout
    rows = cwpp(tmp_path, "lake", "sql", "-f", "json", "SELECT count(*) AS n FROM aws_s3_buckets")
    assert json.loads(rows.stdout)[0]["n"] >= 4
    exported = cwpp(tmp_path, "report", "-f", "json", "-o", "out/findings.json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads((tmp_path / "out" / "findings.json").read_text())["findings"]


def test_scan_against_an_emulator_gates_on_severity(
    tmp_path: Path, moto_endpoint: str, demo_estate: EstateManifest
) -> None:
    lake = f"duckdb://{tmp_path}/scan.duckdb"
    creds = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    base = [
        "scan",
        "aws",
        "--endpoint-url",
        moto_endpoint,
        "--regions",
        "us-east-1",
        "--lake",
        lake,
    ]
    passing = cwpp(tmp_path, *base, **creds)
    assert passing.returncode == 0, passing.stderr
    assert f"synced account(s) {demo_estate.account_id}" in passing.stdout
    gated = cwpp(tmp_path, *base, "--fail-on", "high", **creds)
    assert gated.returncode == 1
    assert "failing finding(s) at or above high" in gated.stderr
    # The second and third scans saw the same failures: still open, not new.
    opened = cwpp(
        tmp_path,
        "lake",
        "sql",
        "-f",
        "json",
        "--lake",
        lake,
        "SELECT lifecycle, count(*) AS n FROM cwpp_findings GROUP BY lifecycle",
    )
    counts = {r["lifecycle"]: r["n"] for r in json.loads(opened.stdout)}
    assert counts.get("OPEN", 0) > 0 and "NEW" not in counts


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (["findings", "--lake", "mysql://x/y"], {}, 1, "unknown lake URL scheme 'mysql'"),
        (
            ["findings", "--lake", "postgresql://u:pw@127.0.0.1:1/x"],
            {},
            1,
            "cannot reach PostgreSQL lake at postgresql://u:***@127.0.0.1:1/x",
        ),
        (["findings", "--severity", "huge"], {}, 2, "unknown severity 'huge'"),
        (["findings", "--pillar", "magic"], {}, 2, "unknown pillar 'magic'"),
        (["assess", "--check", "no_such_check"], {}, 2, "unknown check id(s): no_such_check"),
        (["report", "-f", "pdf", "-o", "x.pdf"], {}, 2, "pdf"),
        (["sync", "aws", "--profile", "nope"], {}, 1, "nope"),
        (
            ["sync", "aws", "--regions", "mars-east-1", "--endpoint-url", "http://127.0.0.1:9"],
            {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
            2,
            "unknown AWS region 'mars-east-1'",
        ),
        (
            ["sync", "aws", "--regions", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"],
            {},
            1,
            "aws configure",
        ),
        (
            ["sync", "aws", "--regions", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"],
            {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
            1,
            'cannot reach AWS: Could not connect to the endpoint URL: "http://127.0.0.1:9/"',
        ),
        (["lake", "sql", "SELEC nonsense"], {}, 1, "query failed"),
        (["frobnicate"], {}, 2, "No such command"),
    ],
)
def test_bad_input_gets_one_clear_line(
    tmp_path: Path, args: list[str], env: dict[str, str], code: int, message: str
) -> None:
    done = cwpp(tmp_path, *args, **env)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_config_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "cwpp.yaml").write_text("aws:\n  regoins: [eu-west-1]\n")
    done = cwpp(tmp_path, "findings")
    assert done.returncode == 2
    assert "aws.regoins" in done.stderr and "Traceback" not in done.stderr


def test_checks_list_and_their_cases(tmp_path: Path) -> None:
    listed = cwpp(tmp_path, "checks", "list", "--pillar", "data-encryption")
    assert listed.returncode == 0
    assert "s3_bucket_default_encryption" in listed.stdout
    assert "ec2_security_group_open_ssh" not in listed.stdout
    # Every check's cases run in the conformance tests; here, the command over one service.
    tested = cwpp(tmp_path, "checks", "test", "--service", "s3")
    assert tested.returncode == 0, tested.stdout
    assert " 0 failed" in tested.stdout
    unknown = cwpp(tmp_path, "checks", "test", "--pillar", "encryption")
    assert unknown.returncode == 2
    assert "unknown pillar 'encryption': use one of" in unknown.stderr


def test_permissions_prints_a_read_only_policy(tmp_path: Path) -> None:
    done = cwpp(tmp_path, "permissions", "aws")
    assert done.returncode == 0, done.stderr
    policy = json.loads(done.stdout)
    actions = policy["Statement"][0]["Action"]
    assert "s3:GetBucketPolicy" in actions and "iam:GenerateCredentialReport" in actions
    assert not [a for a in actions if a.split(":")[1].startswith(("Put", "Create", "Delete"))]


def test_sync_honours_the_standard_endpoint_variable(
    tmp_path: Path, moto_endpoint: str, demo_estate: EstateManifest
) -> None:
    done = cwpp(
        tmp_path,
        "sync",
        "aws",
        "--regions",
        "us-east-1",
        "--lake",
        f"duckdb://{tmp_path}/e.duckdb",
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    assert done.returncode == 0, done.stderr
    assert f"synced account(s) {demo_estate.account_id}" in done.stdout
    # Only the service moto lacks (IAM Access Analyzer) is not assessed; S3 Control and the
    # rest reach the emulator through the variable.
    unassessed = [line for line in done.stderr.splitlines() if "not assessed" in line]
    assert unassessed and all("accessanalyzer" in line for line in unassessed), done.stderr
