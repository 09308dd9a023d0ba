"""SigmaHQ's AWS rules on the labelled corpora, on both backends; alerts as findings; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opencwpp.cli import detect_commands
from opencwpp.core.models import Pillar, Severity
from opencwpp.detect.engine import detect, evaluate
from opencwpp.detect.ingest import ingest, list_sources
from opencwpp.detect.sigma import load_rules
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.lake import Lake
from tests.conftest import require_shared

EXPECTED = json.loads(
    (Path(__file__).parents[1] / "data" / "detect" / "sigmahq_expected_matches.json").read_text()
)["expected"]


def test_every_supported_sigmahq_rule_loads(tmp_path: Path) -> None:
    sigma = require_shared("sigma-aws")
    ruleset = load_rules([sigma / "rules"])
    assert len(ruleset.rules) == 57 and ruleset.problems == []
    assert all(r.author for r in ruleset.rules)  # DRL: alerts must carry it
    unsupported = load_rules([sigma / "unsupported", sigma / "rules-placeholder"])
    assert len(unsupported.problems) == 8 and all(p.reason for p in unsupported.problems)


def test_sigmahq_rules_per_corpus_file(lake: Lake) -> None:
    data = require_shared("cloudtrail")
    rules = load_rules([require_shared("sigma-aws") / "rules"]).rules
    # Files share some eventIDs (anonymised copies), so each file is its own run of the rules.
    for name, expected in EXPECTED.items():
        lake.execute("DELETE FROM aws_cloudtrail_events") if lake.table_exists(
            "aws_cloudtrail_events"
        ) else None
        report = ingest(lake, list_sources([str(data / name)]), force=True)
        assert report.count("failed") == 0, name
        findings, _ = evaluate(lake, rules)
        got = sorted({f.check_id.removeprefix("sigma:") for f in findings})
        assert got == sorted(expected), name


def test_alerts_are_grouped_findings_with_rule_metadata(lake: Lake) -> None:
    data = require_shared("cloudtrail")
    rules = load_rules([require_shared("sigma-aws") / "rules"]).rules
    ingest(
        lake,
        list_sources(
            [
                str(
                    data
                    / "stratus-red-team-detonation-logs"
                    / "aws.credential-access.ec2-get-password-data.json"
                )
            ]
        ),
    )
    result = detect(lake, rules)
    (alert,) = result.findings  # 30 AssumeRole events by one role: one alert
    assert alert.check_id == "sigma:905d389b-b853-46d0-9d3d-dea0d3a3cd49"
    assert alert.pillar is Pillar.THREAT and alert.severity is Severity.LOW
    assert alert.evidence["event_count"] == 30
    assert len(alert.evidence["event_ids"]) == 20 and alert.evidence["event_ids_truncated"]
    assert alert.evidence["rule_author"] and alert.evidence["rule_references"] is not None
    # Sigma's false positives are named as such, never presented as the fix.
    assert len(alert.evidence["rule_falsepositives"]) == 3
    assert alert.remediation.startswith("Check the matching events with the owner")
    assert "Known false positives: AssumeRole may be done by" in alert.remediation
    assert alert.remediation.endswith("Terraform may lead to false positives.")
    assert "environment; AssumeRole from unfamiliar" in alert.remediation
    assert "T1550.001" in alert.mitre_attack and "TA0008" in alert.mitre_attack
    assert alert.resource.uid.startswith("arn:aws:sts::")
    stored = load_findings(lake, FindingFilter(pillars=(Pillar.THREAT.value,)))
    assert [s.finding.id for s in stored] == [alert.id] and stored[0].lifecycle == "NEW"
    assert detect(lake, rules).lifecycle["OPEN"] == 1


def test_cli_ingest_run_alerts(tmp_path: Path) -> None:
    import typer

    data = require_shared("cloudtrail") / "stratus-red-team-detonation-logs"
    app = typer.Typer()
    app.add_typer(detect_commands.app, name="detect")
    app.command("alerts")(detect_commands.alerts_command)
    lake = ["--lake", f"duckdb://{tmp_path / 'l.duckdb'}"]
    runner = CliRunner(env={"COLUMNS": "250"})
    out = runner.invoke(
        app, ["detect", "ingest", str(data / "aws.defense-evasion.cloudtrail-stop.json"), *lake]
    )
    # The console's width is fixed when another test imports it first: compare words only.
    assert out.exit_code == 0 and "1 new events" in " ".join(out.output.split())
    rules = str(require_shared("sigma-aws") / "rules")
    out = runner.invoke(app, ["detect", "run", "--no-builtin", "--rules", rules, *lake])
    assert out.exit_code == 0 and "1 alert(s)" in " ".join(out.output.split())
    # Default: our pack and the stateful detections too; an allow-list mutes known automation.
    allow = tmp_path / "cwpp.yaml"
    allow.write_text(
        "detect:\n  allow:\n    - identity: 'arn:aws:iam::*:user/christophe'\n"
        "      rule: 'CloudTrail trail logging stopped'\n      owner: secops\n"
        "      reason: trail rotation runbook\n"
    )
    out = runner.invoke(app, ["detect", "run", "--rules", rules, "--allowlist", str(allow), *lake])
    words = " ".join(out.output.split())
    assert out.exit_code == 0 and "1 alert(s) and 1 allow-listed" in words, words
    out = runner.invoke(app, ["alerts", *lake], terminal_width=200)
    assert out.exit_code == 0 and "Important" in " ".join(out.output.split())
    out = runner.invoke(app, ["detect", "run", "--since", "yesterday", "--rules", rules, *lake])
    assert out.exit_code != 0
