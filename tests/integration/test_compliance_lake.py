"""`cwpp compliance` over stored findings on DuckDB and PostgreSQL."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from opencwpp.cli import compliance_commands
from opencwpp.compliance import assess_framework, get_framework
from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.lake import Lake

runner = CliRunner()
app = typer.Typer()
app.command("compliance")(compliance_commands.compliance_command)


@app.callback()
def _root() -> None:
    """Keeps `compliance` a sub-command, as the lead mounts it in `cwpp`."""


def _finding(check_id: str, uid: str, status: Status) -> Finding:
    return Finding(
        check_id,
        check_id.replace("_", " "),
        Pillar.ACCESS,
        Severity.HIGH,
        status,
        ResourceRef(uid=uid, type="x", account_id="000000000000", region="eu-west-1"),
        compliance={},  # the framework file, not the finding, maps checks to requirements
    )


def _seed(lake: Lake) -> None:
    findings = [
        _finding("iam_root_mfa_enabled", "arn:aws:iam::000000000000:root", Status.PASS),
        _finding("ec2_instance_imdsv2_required", "arn:aws:ec2:i-1", Status.FAIL),
        _finding("ec2_instance_imdsv2_required", "arn:aws:ec2:i-2", Status.PASS),
        _finding("iam_root_recently_used", "arn:aws:iam::000000000000:root", Status.PASS),
        _finding("s3_bucket_secure_transport_policy", "arn:aws:s3:::b", Status.MUTED),
    ]
    run_id = start_run(lake, "assess")
    save_findings(lake, run_id, findings, {f.check_id for f in findings})
    finish_run(lake, run_id, "ok", {})


def test_status_from_stored_findings(lake: Lake) -> None:
    _seed(lake)
    status = assess_framework(lake, get_framework("cis-aws-5.0"))
    by_id = {r.requirement.id: r for r in status.requirements}
    assert by_id["1.4"].state == "PASS"
    assert by_id["5.7"].state == "FAIL" and (by_id["5.7"].failing, by_id["5.7"].passing) == (1, 1)
    assert by_id["1.6"].state == "MANUAL"  # root not used recently, yet a person must judge
    assert by_id["2.1.1"].state == "NOT_ASSESSED" and by_id["2.1.1"].muted == 1
    assert by_id["3.3"].state == "NOT_ASSESSED"
    assert status.score == 0.5


def test_empty_lake_assesses_nothing(lake: Lake) -> None:
    status = assess_framework(lake, get_framework("aws-fsbp"))
    assert status.score is None and status.count("PASS") == status.count("FAIL") == 0


def test_cli_lists_frameworks_and_prints_json(lake_url: str) -> None:
    listed = runner.invoke(app, ["compliance", "-f", "json"])
    assert listed.exit_code == 0, listed.output
    ids = {f["id"] for f in json.loads(listed.output)}
    assert {"cis-aws-3.0", "cis-aws-5.0", "aws-fsbp", "nist-800-53-r5", "soc2"} <= ids
    with Lake.open(lake_url) as lake:
        _seed(lake)
    result = runner.invoke(app, ["compliance", "cis-aws-5.0", "--lake", lake_url, "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["score"] == 0.5 and data["counts"]["FAIL"] == 1
    assert {r["status"] for r in data["requirements"] if r["manual"]} == {"MANUAL"}
    table = runner.invoke(app, ["compliance", "cis-aws-5.0", "--lake", lake_url])
    assert table.exit_code == 0 and "score: 50%" in table.output


def test_cli_rejects_unknown_framework_and_format() -> None:
    bad = runner.invoke(app, ["compliance", "cis-aws-9"])
    assert bad.exit_code != 0 and "unknown framework" in str(bad.exception)
    bad = runner.invoke(app, ["compliance", "-f", "xml"])
    assert bad.exit_code != 0 and "unknown format" in str(bad.exception)
