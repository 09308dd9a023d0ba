"""The peer benchmark's ground truth, tool-output readers and scoring (no peers, no emulator)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from bench.peers.__main__ import parse_scales
from bench.peers.emulator import CallCounter, CountingApp, service_of
from bench.peers.estate import KINDS
from bench.peers.findings import ToolFinding, read_ours, read_prowler, read_scoutsuite
from bench.peers.measure import Measure, combine
from bench.peers.score import MAPPINGS, Mapping, disagreements, matches, score
from bench.peers.truth import GroundTruth, Resource

ACCOUNT = "123456789012"
SG_OPEN = Resource("security_group", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/sg-1",
                   "pb00-ssh-world", "eu-west-1", ("sg-1",))  # fmt: skip
SG_ADMIN = Resource("security_group", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/sg-2",
                    "pb00-ssh-admin-only", "eu-west-1", ("sg-2",))  # fmt: skip
US_EAST = Resource("region", f"{ACCOUNT}:us-east-1", "us-east-1", "us-east-1", scope="region")
EU_WEST = Resource("region", f"{ACCOUNT}:eu-west-1", "eu-west-1", "eu-west-1", scope="region")


def _truth() -> GroundTruth:
    truth = GroundTruth(1, ACCOUNT, ("us-east-1", "eu-west-1"))
    truth.defect("sg_ssh_open_to_internet", "access-control", SG_OPEN)
    truth.near_miss("sg_ssh_open_to_internet", "access-control", SG_ADMIN, "one admin /32")
    truth.defect("guardduty_disabled", "threat-detection", US_EAST)
    truth.near_miss("guardduty_disabled", "threat-detection", EU_WEST)
    return truth


def _f(check: str, status: str, *ids: str, region: str = "eu-west-1") -> ToolFinding:
    return ToolFinding(check, status, frozenset(ids), region, ACCOUNT, ids[0] if ids else "")


MAPPING = Mapping(
    "t", "1", {"ssh_open": ("sg_ssh_open_to_internet",), "gd_*": ("guardduty_disabled",)}
)


def test_ground_truth_round_trips_through_json(tmp_path: Path) -> None:
    truth = _truth()
    truth.save(tmp_path / "truth.json")
    again = GroundTruth.load(tmp_path / "truth.json")
    assert again.defects == truth.defects and again.near_misses == truth.near_misses
    assert again.kinds() == {"sg_ssh_open_to_internet", "guardduty_disabled"}
    with pytest.raises(ValueError, match="pillar"):
        truth.defect("x", "network", SG_OPEN)


def test_mapping_exact_ids_and_globs() -> None:
    assert MAPPING.kinds_of("ssh_open") == {"sg_ssh_open_to_internet"}
    assert MAPPING.kinds_of("gd_is_enabled") == {"guardduty_disabled"}
    assert MAPPING.kinds_of("ssh_open_v2") == set()


def test_matching_by_identifier_region_and_account() -> None:
    assert matches(_f("c", "FAIL", "sg-1"), SG_OPEN, ACCOUNT)
    assert matches(_f("c", "FAIL", "PB00-SSH-WORLD".lower()), SG_OPEN, ACCOUNT)
    assert not matches(_f("c", "FAIL", "sg-2"), SG_OPEN, ACCOUNT)
    assert matches(_f("c", "FAIL", region="us-east-1"), US_EAST, ACCOUNT)
    assert not matches(_f("c", "FAIL", region="eu-west-1"), US_EAST, ACCOUNT)
    other = ToolFinding("c", "FAIL", frozenset({"sg-1"}), "eu-west-1", "999999999999", "")
    assert not matches(other, SG_OPEN, ACCOUNT)


def test_score_counts_defects_found_and_near_misses_flagged() -> None:
    findings = [
        _f("ssh_open", "FAIL", "sg-1"),  # the defect: found
        _f("ssh_open", "FAIL", "sg-2"),  # the near-miss: a false positive
        _f("gd_is_enabled", "PASS", region="us-east-1"),  # a PASS finds nothing
        _f("unmapped_check", "FAIL", region="us-east-1"),  # unmapped: ignored
    ]
    result = score("t", _truth(), findings, MAPPING)
    pillars = result.per_pillar()
    assert pillars["access-control"] == {
        "defects": 1, "found": 1, "recall": 1.0, "near_misses": 1, "false_positives": 1,
    }  # fmt: skip
    assert pillars["threat-detection"]["found"] == 0
    assert pillars["all"]["recall"] == 0.5
    assert [v.checks for v in result.defects] == [("ssh_open",), ()]


def test_disagreements_say_who_is_right() -> None:
    truth = _truth()
    good = score("good", truth, [_f("ssh_open", "FAIL", "sg-1")], MAPPING)
    noisy = score("noisy", truth, [_f("ssh_open", "FAIL", "sg-1", "sg-2")], MAPPING)
    blind = score("blind", truth, [], MAPPING)
    rows = disagreements([good, noisy, blind])
    planted = next(d for d in rows if d.planted)
    assert planted.flagged_by == ("good", "noisy") and planted.right == ("good", "noisy")
    near = next(d for d in rows if not d.planted)
    assert near.flagged_by == ("noisy",) and near.right == ("good", "blind")
    assert disagreements([good]) == []


def test_readers_normalise_each_tools_output(tmp_path: Path) -> None:
    ours = {"findings": [{"check_id": "a", "status": "FAIL", "resource": {
        "uid": "arn:x", "name": "n1", "region": "eu-west-1", "account_id": ACCOUNT,
        "tags": {"Name": "pb00-x"}}}]}  # fmt: skip
    (tmp_path / "ours.json").write_text(json.dumps(ours))
    [o] = read_ours(tmp_path / "ours.json")
    assert o.identifiers == {"arn:x", "n1", "pb00-x"} and o.failed
    prowler = [{"metadata": {"event_code": "p"}, "status_code": "PASS",
                "cloud": {"account": {"uid": ACCOUNT}, "region": "us-east-1"},
                "resources": [{"uid": "arn:y", "name": "default", "region": "us-east-1",
                               "data": {"metadata": {"id": "sg-9"}}}]}]  # fmt: skip
    (tmp_path / "p.json").write_text(json.dumps(prowler))
    [p] = read_prowler(tmp_path / "p.json")
    assert p.identifiers == {"arn:y", "sg-9"} and not p.failed  # "default" names nothing
    scout = {"account_id": ACCOUNT, "services": {"ec2": {
        "regions": {"eu-west-1": {"vpcs": {"vpc-1": {"name": "main", "security_groups": {
            "sg-1": {"name": "pb00-ssh-world", "id": "sg-1", "rules": {}}}}}}},
        "findings": {"ec2-security-group-opens-SSH-port-to-all": {"items": [
            "ec2.regions.eu-west-1.vpcs.vpc-1.security_groups.sg-1.rules.ingress"]}}}}}  # fmt: skip
    (tmp_path / "s.js").write_text("scoutsuite_results =\n" + json.dumps(scout))
    [s] = read_scoutsuite(tmp_path / "s.js")
    assert s.failed and s.region == "eu-west-1"
    assert {"sg-1", "pb00-ssh-world", "vpc-1"} <= s.identifiers
    assert matches(s, SG_OPEN, ACCOUNT)


def test_mapping_files_name_only_known_kinds_and_cover_every_kind() -> None:
    covered: set[str] = set()
    for tool in ("opencwpp", "prowler", "scoutsuite"):
        mapping = Mapping.load(tool, MAPPINGS)
        for check, kinds in mapping.checks.items():
            assert set(kinds) <= set(KINDS), (tool, check)
            covered.update(kinds)
    assert covered == set(KINDS)


def test_counting_middleware_counts_by_service_and_fakes_opt_in_filter() -> None:
    counter = CallCounter()

    def moto(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("404 Not Found", [])  # type: ignore[operator]
        return [b""]

    app = CountingApp(moto, counter)
    auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/sqs/aws4_request, X"
    assert service_of({"HTTP_AUTHORIZATION": auth}) == "sqs"
    app({"HTTP_AUTHORIZATION": auth, "PATH_INFO": "/"}, lambda *a: None)
    body = b"Action=DescribeRegions&Filter.1.Name=opt-in-status&Filter.1.Value.1=not-opted-in"
    ec2 = auth.replace("sqs", "ec2")
    answer = app(
        {"HTTP_AUTHORIZATION": ec2, "PATH_INFO": "/", "CONTENT_LENGTH": str(len(body)),
         "wsgi.input": io.BytesIO(body)},
        lambda *a: None,
    )  # fmt: skip
    assert b"<regionInfo/>" in b"".join(answer)
    app({"PATH_INFO": "/moto-api/reset"}, lambda *a: None)  # the emulator's own API: not counted
    taken = counter.take()
    assert taken["total"] == 2 and taken["by_service"] == {"sqs": 1, "ec2": 1}
    assert taken["by_status"] == {"2xx": 1, "4xx": 1}
    assert counter.take()["total"] == 0


def test_measures_of_steps_combine_and_scales_parse() -> None:
    both = combine([Measure(2.0, 1.0, 100.0, 0), Measure(1.0, 0.5, 300.0, 1)])
    assert (both.wall_s, both.cpu_s, both.peak_rss_mib, both.returncode) == (3.0, 1.5, 300.0, 1)
    assert parse_scales("1x3, 10", 2) == [(1, 3), (10, 2)]
