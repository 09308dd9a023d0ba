"""Findings history across runs, on both backends."""

from __future__ import annotations

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import FindingFilter, load_findings, save_findings, start_run
from opencwpp.lake import Lake


def _finding(uid: str, status: Status, check: str = "c_one") -> Finding:
    return Finding(
        check_id=check,
        title="A test check",
        pillar=Pillar.ACCESS,
        severity=Severity.HIGH,
        status=status,
        resource=ResourceRef(
            uid=uid, type="AwsS3Bucket", account_id="1", name=uid, tags={"k": "<v>"}
        ),
        status_reason="why",
    )


def _lifecycle(lake: Lake) -> dict[str, tuple[str, str | None]]:
    return {
        s.finding.resource.uid: (s.finding.status.value, s.lifecycle) for s in load_findings(lake)
    }


def test_new_open_resolved_across_runs(lake: Lake) -> None:
    run = start_run(lake, "assess")
    counts = save_findings(
        lake,
        run,
        [_finding("a", Status.FAIL), _finding("b", Status.FAIL), _finding("c", Status.PASS)],
        ["c_one"],
    )
    assert counts == {"NEW": 2, "OPEN": 0, "RESOLVED": 0}
    assert _lifecycle(lake) == {"a": ("FAIL", "NEW"), "b": ("FAIL", "NEW"), "c": ("PASS", None)}
    first_seen = {s.finding.resource.uid: s.finding.first_seen for s in load_findings(lake)}

    run = start_run(lake, "assess")
    counts = save_findings(
        lake, run, [_finding("a", Status.FAIL), _finding("c", Status.FAIL)], ["c_one"]
    )
    # a still fails, b's resource is gone, c fails for the first time.
    assert counts == {"NEW": 1, "OPEN": 1, "RESOLVED": 1}
    stored = {s.finding.resource.uid: s for s in load_findings(lake)}
    assert stored["a"].lifecycle == "OPEN"
    assert stored["a"].finding.first_seen == first_seen["a"]
    assert stored["b"].lifecycle == "RESOLVED" and stored["b"].resolved_at is not None
    assert stored["c"].lifecycle == "NEW"

    run = start_run(lake, "assess")
    save_findings(lake, run, [_finding("a", Status.PASS), _finding("c", Status.FAIL)], ["c_one"])
    assert _lifecycle(lake)["a"] == ("PASS", "RESOLVED")
    history = lake.query("SELECT count(*) AS n FROM cwpp_finding_history")
    assert history[0]["n"] == 3 + 3 + 3


def test_checks_that_did_not_run_keep_their_findings(lake: Lake) -> None:
    save_findings(
        lake,
        start_run(lake, "assess"),
        [_finding("a", Status.FAIL, "c_one"), _finding("a", Status.FAIL, "c_two")],
        ["c_one", "c_two"],
    )
    save_findings(lake, start_run(lake, "assess"), [], ["c_one"])
    left = {(s.finding.check_id, s.lifecycle) for s in load_findings(lake)}
    assert left == {("c_one", "RESOLVED"), ("c_two", "NEW")}


def test_filters(lake: Lake) -> None:
    low = Finding(
        check_id="c_low",
        title="Low one",
        pillar=Pillar.ENCRYPTION,
        severity=Severity.LOW,
        status=Status.FAIL,
        resource=ResourceRef(uid="arn:x:low", type="T", name="lowname"),
    )
    save_findings(
        lake,
        start_run(lake, "assess"),
        [_finding("arn:x:high", Status.FAIL), _finding("arn:x:p", Status.PASS), low],
        ["c_one", "c_low"],
    )
    uids = lambda f: sorted(s.finding.resource.uid for s in load_findings(lake, f))  # noqa: E731
    assert uids(FindingFilter(statuses=("FAIL",))) == ["arn:x:high", "arn:x:low"]
    assert uids(FindingFilter(min_severity=Severity.MEDIUM)) == ["arn:x:high", "arn:x:p"]
    assert uids(FindingFilter(pillars=("data-encryption",))) == ["arn:x:low"]
    assert uids(FindingFilter(resource="lowname")) == ["arn:x:low"]
    assert uids(FindingFilter(check_ids=("c_one",), statuses=("PASS",))) == ["arn:x:p"]
    tags = load_findings(lake, FindingFilter(check_ids=("c_one",)))[0].finding.resource.tags
    assert tags == {"k": "<v>"}


def test_resource_prefix_scopes_resolution_to_one_target(lake: Lake) -> None:
    save_findings(
        lake,
        start_run(lake, "scan"),
        [_finding("imgA#pypi/x", Status.FAIL), _finding("imgB#pypi/x", Status.FAIL)],
        ["c_one"],
    )
    # Rescanning image A, now fixed, resolves A's finding and leaves B's open.
    counts = save_findings(lake, start_run(lake, "scan"), [], ["c_one"], resource_prefix="imgA#")
    assert counts == {"NEW": 0, "OPEN": 0, "RESOLVED": 1}
    assert _lifecycle(lake) == {"imgA#pypi/x": ("PASS", "RESOLVED"), "imgB#pypi/x": ("FAIL", "NEW")}
