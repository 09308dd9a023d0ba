"""Run diffs, compliance scores, report filters and the table data: pure functions."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from opencwpp.core.errors import UsageError
from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import load_mutelist
from opencwpp.findings.mutelist import MuteRule
from opencwpp.report import ReportData
from opencwpp.report.compliance import compliance_scores
from opencwpp.report.diff import HistoryEntry, RunDiff, diff_runs
from opencwpp.report.diff_console import diff_summary, diff_table
from opencwpp.report.filters import ExtraFilter, apply, parse_since
from opencwpp.report.table_data import embed_json, table_rows
from opencwpp.web.mute import append_rule, new_rule

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _h(fid: str, status: str, severity: str = "high") -> HistoryEntry:
    return HistoryEntry(fid, f"check-{fid}", status, severity)


def test_diff_classifies_new_resolved_and_changed() -> None:
    before = {
        "a": _h("a", "FAIL"),  # still failing: not reported
        "b": _h("b", "FAIL"),  # passes now: resolved
        "c": _h("c", "PASS"),  # fails now: new
        "d": _h("d", "FAIL"),  # muted now: changed
        "e": _h("e", "FAIL", "medium"),  # severity raised: changed
        "g": _h("g", "FAIL"),  # absent later: out of scope, not reported
    }
    after = {
        "a": _h("a", "FAIL"),
        "b": _h("b", "PASS"),
        "c": _h("c", "FAIL"),
        "d": _h("d", "MUTED"),
        "e": _h("e", "FAIL", "critical"),
        "f": _h("f", "FAIL"),  # first seen: new
        "p": _h("p", "PASS"),  # first seen passing: nothing
    }
    diff = diff_runs(before, after, "r1", "r2", {"f": ("Title F", "bucket-f")})
    assert {c.finding_id for c in diff.new} == {"c", "f"}
    assert [c.finding_id for c in diff.resolved] == ["b"]
    assert {c.finding_id for c in diff.changed} == {"d", "e"}
    f = next(c for c in diff.new if c.finding_id == "f")
    assert (f.before_status, f.title, f.resource) == (None, "Title F", "bucket-f")
    assert not diff.empty and diff.only({"b"}).new == [] and len(diff.only({"b"}).resolved) == 1


def test_diff_of_identical_runs_is_empty() -> None:
    runs = {"a": _h("a", "FAIL")}
    assert diff_runs(runs, dict(runs), "r1", "r2").empty


def test_diff_table_keeps_hostile_names_literal() -> None:
    diff = diff_runs({}, {"x": _h("x", "FAIL")}, "r1", "r2", {"x": ("t", "[red]boom[/red]")})
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(diff_table(diff))
    assert "[red]boom[/red]" in console.export_text()
    assert diff_summary(diff) == "1 new, 0 resolved, 0 changed"


def _f(check: str, status: Status, compliance: dict[str, list[str]], uid: str = "u") -> Finding:
    return Finding(
        check,
        "t",
        Pillar.ACCESS,
        Severity.HIGH,
        status,
        ResourceRef(uid, "aws_s3_buckets", "111111111111", "eu-west-1"),
        compliance=compliance,
        last_seen=NOW,
    )


def test_compliance_scores_requirement_wise() -> None:
    findings = [
        _f("c1", Status.FAIL, {"cis": ["1.1", "1.2"]}),
        _f("c1", Status.PASS, {"cis": ["1.1", "1.2"]}, "v"),
        _f("c2", Status.PASS, {"cis": ["1.10"], "nist": ["AC-3"]}),
        _f("c3", Status.MUTED, {"cis": ["2.1"]}),
        _f("c4", Status.NOT_ASSESSED, {"nist": ["SC-7"]}),
    ]
    cis, nist = compliance_scores(findings)
    assert cis.framework == "cis" and [r.requirement for r in cis.requirements] == [
        "1.1",
        "1.2",
        "1.10",
        "2.1",
    ]
    assert [r.state for r in cis.requirements] == ["FAIL", "FAIL", "PASS", "NOT_ASSESSED"]
    assert cis.score == pytest.approx(1 / 3)
    assert nist.score == 1.0 and nist.count("NOT_ASSESSED") == 1
    assert compliance_scores([_f("c", Status.MUTED, {"x": ["1"]})])[0].score is None


def test_extra_filters_and_since() -> None:
    old = replace(_f("c1", Status.FAIL, {"cis": ["1"]}), last_seen=NOW - timedelta(days=30))
    other = replace(
        _f("c2", Status.FAIL, {}),
        resource=ResourceRef("w", "t", "222222222222", "us-east-1"),
    )
    data = ReportData([old, other, _f("c3", Status.FAIL, {"nist": ["x"]})], NOW, "x")
    assert len(apply(data, ExtraFilter(accounts=("222222222222",))).findings) == 1
    assert len(apply(data, ExtraFilter(regions=("eu-west-1",))).findings) == 2
    assert [f.check_id for f in apply(data, ExtraFilter(frameworks=("cis",))).findings] == ["c1"]
    since = parse_since("7d", NOW)
    assert since == NOW - timedelta(days=7)
    kept = apply(data, ExtraFilter(since=since)).findings
    assert {f.check_id for f in kept} == {"c2", "c3"}
    assert parse_since("2025-01-31") == datetime(2025, 1, 31, tzinfo=UTC)
    with pytest.raises(UsageError, match="--since"):
        parse_since("yesterday")
    assert apply(data, ExtraFilter()) is data


def test_table_data_is_compact_and_cannot_close_its_script_element() -> None:
    hostile = replace(
        _f("c1", Status.FAIL, {}),
        resource=ResourceRef(
            "arn:x</script><script>alert(1)</script>",
            "t",
            "1",
            "r",
            "\u2028name\x1b[31m",
            {"k": "<b>&"},
        ),
    )
    data = ReportData([hostile, _f("c1", Status.PASS, {}, "v")], NOW, "x")
    doc = table_rows(data)
    assert doc["strings"][0] == "" and doc["strings"].count("c1") == 1
    text = embed_json(doc)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    back = json.loads(text)
    assert back["rows"][0][5] == "arn:x</script><script>alert(1)</script>"
    assert "\x1b" not in back["rows"][0][6]  # control characters replaced


def test_mute_rule_validation_and_append(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="reason"):
        new_rule({"check": "c", "owner": "o", "reason": "x", "expires": "2999-01-01"})
    with pytest.raises(UsageError, match="expires: Field required"):
        new_rule({"check": "c", "owner": "o", "reason": "no end in sight"})
    with pytest.raises(UsageError, match="past"):
        new_rule({"check": "c", "owner": "o", "reason": "why not", "expires": "2000-01-01"})
    rule = new_rule({"check": "c", "owner": "o", "reason": "accepted", "expires": "2999-01-01"})
    path = tmp_path / "mutes.yaml"
    append_rule(path, rule)  # created when missing
    assert load_mutelist(path).rules == (rule,)
    path.write_text(
        "# keep me\nmutes:\n  - check: a\n    owner: x\n    reason: because\n"
        "    expires: 2999-01-01\n"
    )
    append_rule(path, rule)
    assert path.read_text().startswith("# keep me\n")
    assert [r.check for r in load_mutelist(path).rules] == ["a", "c"]
    path.write_text(
        "mutes: [{check: a, owner: x, reason: because, expires: 2999-01-01}]\nother: 1\n"
    )
    with pytest.raises(Exception, match="other"):
        load_mutelist(path)  # an invalid file is never touched
    path.write_text("mutes: [{check: a, owner: x, reason: because, expires: 2999-01-01}]\n")
    append_rule(path, MuteRule(check="b", owner="y", reason="flow style", expires=date(2999, 1, 1)))
    assert [r.check for r in load_mutelist(path).rules] == ["a", "b"]
    assert yaml.safe_load(path.read_text())["mutes"][1]["expires"] == "2999-01-01"


def test_run_diff_only_keeps_matching_findings() -> None:
    diff = RunDiff("a", "b")
    assert diff.only({"x"}) == diff
