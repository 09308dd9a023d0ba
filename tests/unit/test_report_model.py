from datetime import UTC, datetime, timedelta, timezone

import pytest

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.report import ReportData
from opencwpp.report.model import (
    CheckCount,
    failing_by_pillar,
    failing_by_severity,
    group_by_check,
    iso_utc,
    lifecycle_counts,
    severity_matrix,
    sort_findings,
    status_counts,
    top_failing_checks,
)
from opencwpp.report.svg import Bar, bar_chart
from opencwpp.report.text import clean, truncate

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _f(
    check: str,
    uid: str,
    sev: Severity,
    status: Status = Status.FAIL,
    pillar: Pillar = Pillar.ACCESS,
) -> Finding:
    return Finding(check, f"T {check}", pillar, sev, status, ResourceRef(uid, "t"))


FINDINGS = [
    _f("b", "2", Severity.LOW),
    _f("a", "1", Severity.CRITICAL),
    _f("c", "9", Severity.HIGH, pillar=Pillar.ENCRYPTION),
    _f("c", "3", Severity.HIGH, pillar=Pillar.ENCRYPTION),
    _f("c", "4", Severity.HIGH, Status.PASS, pillar=Pillar.ENCRYPTION),
    _f("b", "1", Severity.LOW),
    _f("d", "1", Severity.MEDIUM, Status.MUTED),
    _f("e", "1", Severity.CRITICAL, Status.NOT_ASSESSED),
]


def test_severity_matrix_counts_failing_only_with_every_cell() -> None:
    m = severity_matrix(FINDINGS)
    assert set(m) == set(Pillar)
    assert all(set(row) == set(Severity) for row in m.values())
    assert m[Pillar.ACCESS][Severity.CRITICAL] == 1
    assert m[Pillar.ACCESS][Severity.LOW] == 2
    assert m[Pillar.ENCRYPTION][Severity.HIGH] == 2
    assert sum(sum(r.values()) for r in m.values()) == 5


def test_failing_by_severity_and_pillar() -> None:
    by_sev = failing_by_severity(FINDINGS)
    assert list(by_sev) == [
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
        Severity.INFORMATIONAL,
    ]
    assert by_sev == {
        Severity.CRITICAL: 1,
        Severity.HIGH: 2,
        Severity.MEDIUM: 0,
        Severity.LOW: 2,
        Severity.INFORMATIONAL: 0,
    }
    assert failing_by_pillar(FINDINGS)[Pillar.ENCRYPTION] == 2
    assert failing_by_pillar(FINDINGS)[Pillar.THREAT] == 0


def test_status_counts_include_every_status() -> None:
    assert status_counts(FINDINGS) == {
        Status.FAIL: 5,
        Status.PASS: 1,
        Status.MUTED: 1,
        Status.NOT_ASSESSED: 1,
    }
    assert status_counts([]) == dict.fromkeys(Status, 0)


def test_top_failing_checks_by_severity_then_count() -> None:
    assert top_failing_checks(FINDINGS) == [
        CheckCount("a", "T a", Severity.CRITICAL, 1),
        CheckCount("c", "T c", Severity.HIGH, 2),
        CheckCount("b", "T b", Severity.LOW, 2),
    ]
    assert len(top_failing_checks(FINDINGS, limit=1)) == 1
    assert top_failing_checks([]) == []


def test_sort_findings_is_severity_desc_check_uid() -> None:
    keys = [(f.severity, f.check_id, f.resource.uid) for f in sort_findings(FINDINGS)]
    assert keys[:3] == [
        (Severity.CRITICAL, "a", "1"),
        (Severity.CRITICAL, "e", "1"),
        (Severity.HIGH, "c", "3"),
    ]
    assert keys[-2:] == [(Severity.LOW, "b", "1"), (Severity.LOW, "b", "2")]


def test_group_by_check_puts_failing_checks_first() -> None:
    groups = group_by_check(FINDINGS)
    assert [g.check_id for g in groups] == ["a", "c", "b", "e", "d"]
    c = groups[1]
    assert c.failing == 2
    assert [f.status for f in c.findings] == [Status.FAIL, Status.FAIL, Status.PASS]


def test_lifecycle_counts() -> None:
    data = ReportData(
        FINDINGS,
        T0,
        "duckdb:///x",
        None,
        {FINDINGS[0].id: "NEW", FINDINGS[1].id: "OPEN", "gone": "RESOLVED"},
    )
    assert lifecycle_counts(data) == {"NEW": 1, "OPEN": 1, "RESOLVED": 0}
    assert lifecycle_counts(ReportData(FINDINGS, T0, "x")) == {}


def test_iso_utc() -> None:
    assert iso_utc(None) is None
    assert iso_utc(datetime(2025, 1, 1, 12)) == "2025-01-01T12:00:00Z"
    plus2 = timezone(timedelta(hours=2))
    assert iso_utc(datetime(2025, 1, 1, 12, tzinfo=plus2)) == "2025-01-01T10:00:00Z"


def test_report_data_is_frozen() -> None:
    data = ReportData([], T0, "x")
    with pytest.raises(AttributeError):
        data.run_id = "y"  # type: ignore[misc]


def test_clean_removes_terminal_and_bidi_controls() -> None:
    assert clean("a\x1b[31mb") == "a\ufffd[31mb"
    assert clean("evil\u202egnp.exe") == "evil\ufffdgnp.exe"
    assert clean("a\nb\tc") == "a b c"
    assert clean("plain [x] <y>") == "plain [x] <y>"


def test_truncate() -> None:
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("abc", 4) == "abc"
    with pytest.raises(ValueError):
        truncate("abc", 0)


def test_bar_chart_escapes_text_and_scales() -> None:
    svg = str(bar_chart("<t>", [Bar("<script>", 4, 'x"><b'), Bar("b", 2, "c"), Bar("z", 0, "c")]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'x"><b' not in svg
    assert "<title>&lt;t&gt;</title>" in svg
    assert 'width="300.0"' in svg and 'width="150.0"' in svg and 'width="0.0"' in svg


def test_bar_chart_without_data() -> None:
    assert "<svg" in str(bar_chart("empty", []))
