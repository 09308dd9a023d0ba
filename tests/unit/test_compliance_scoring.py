"""Per-requirement status and score of a framework from finding counts (pure)."""

from __future__ import annotations

from opencwpp.compliance import Framework, framework_status

FRAMEWORK = Framework.model_validate(
    {
        "id": "demo-fw",
        "name": "Demo",
        "version": "1",
        "source": "https://example.org",
        "requirements": [
            {"id": "1", "title": "Buckets are private", "checks": ["bucket_public", "acl_public"]},
            {"id": "2", "title": "Volumes are encrypted", "checks": ["volume_encrypted"]},
            {"id": "3", "title": "Keys rotate", "checks": ["key_rotation"]},
            {"id": "4", "title": "Root is not used", "checks": ["root_used"], "manual": True},
            {"id": "5", "title": "Contacts are current", "manual": True},
            {"id": "6", "title": "Config records everywhere"},
        ],
    }
)


def _states(counts: dict[tuple[str, str], int]) -> dict[str, str]:
    return {r.requirement.id: r.state for r in framework_status(FRAMEWORK, counts).requirements}


def test_fail_when_any_mapped_check_fails_and_pass_when_all_pass() -> None:
    counts = {
        ("bucket_public", "PASS"): 3,
        ("acl_public", "FAIL"): 1,
        ("volume_encrypted", "PASS"): 5,
        ("root_used", "PASS"): 1,
    }
    status = framework_status(FRAMEWORK, counts)
    by_id = {r.requirement.id: r for r in status.requirements}
    assert by_id["1"].state == "FAIL" and (by_id["1"].failing, by_id["1"].passing) == (1, 3)
    assert by_id["2"].state == "PASS" and "all 5" in by_id["2"].detail
    assert by_id["3"].state == "NOT_ASSESSED"  # the check did not run / judged nothing
    assert by_id["4"].state == "MANUAL"  # passing supporting checks never make it PASS
    assert by_id["5"].state == "MANUAL"
    assert by_id["6"].state == "NOT_ASSESSED" and "no automated check" in by_id["6"].detail
    assert status.score == 0.5  # 1 passed of 2 assessed automated requirements


def test_manual_requirement_reports_failing_supporting_evidence_but_stays_manual() -> None:
    status = framework_status(FRAMEWORK, {("root_used", "FAIL"): 2})
    req = status.requirements[3]
    assert req.state == "MANUAL" and "2 supporting finding(s) fail" in req.detail
    assert status.score is None  # nothing automated was assessed


def test_muted_and_not_assessed_findings_neither_pass_nor_fail() -> None:
    states = _states({("volume_encrypted", "MUTED"): 2, ("key_rotation", "NOT_ASSESSED"): 1})
    assert states["2"] == "NOT_ASSESSED" and states["3"] == "NOT_ASSESSED"
    states = _states({("volume_encrypted", "MUTED"): 2, ("volume_encrypted", "PASS"): 1})
    assert states["2"] == "PASS"


def test_pass_names_mapped_checks_that_judged_nothing() -> None:
    status = framework_status(FRAMEWORK, {("bucket_public", "PASS"): 1})
    req = status.requirements[0]
    assert req.state == "PASS" and req.unassessed_checks == ("acl_public",)
    assert "not assessed: acl_public" in req.detail


def test_counts_of_unrelated_checks_are_ignored() -> None:
    assert set(_states({("other_check", "FAIL"): 9}).values()) == {"NOT_ASSESSED", "MANUAL"}
