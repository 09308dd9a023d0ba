from datetime import UTC, datetime

from rich.console import Console

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.report import ReportData
from opencwpp.report.console import findings_table, safe, summary_panel

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _f(
    name: str, sev: Severity = Severity.HIGH, status: Status = Status.FAIL, reason: str = "detail"
) -> Finding:
    return Finding(
        "s3_bucket_public_acl",
        "Public bucket",
        Pillar.ACCESS,
        sev,
        status,
        ResourceRef(f"arn:aws:s3:::{name}", "aws_s3_buckets", "000000000000", "eu-west-1", name),
        status_reason=reason,
    )


FINDINGS = [
    _f("[red]x[/red]", Severity.CRITICAL, reason="[bold]not bold[/bold] " + "y" * 200),
    _f("ok", Severity.LOW, Status.PASS),
    _f("trailing\\", Severity.MEDIUM),
    _f("esc\x1b[2Jhere", Severity.LOW),
]


def _render(renderable: object) -> str:
    console = Console(record=True, width=200, color_system="truecolor")
    console.print(renderable)
    return console.export_text()


def test_findings_table_prints_markup_literally() -> None:
    out = _render(findings_table(FINDINGS, {}))
    assert "[red]x[/red]" in out
    assert "[bold]not bold[/bold]" in out
    assert "trailing\\" in out and "trailing\\\\" not in out
    assert "\x1b" not in out and "esc\ufffd[2Jhere" in out
    assert "CRITICAL" in out and "FAIL" in out and "PASS" in out
    assert "000000000000" in out and "eu-west-1" in out
    assert "y" * 80 not in out  # detail truncated


def test_findings_table_shows_lifecycle_when_given() -> None:
    lifecycle = {FINDINGS[0].id: "NEW"}
    out = _render(findings_table(FINDINGS, lifecycle))
    assert "Lifecycle" in out and "NEW" in out
    assert "Lifecycle" not in _render(findings_table(FINDINGS))


def test_findings_table_orders_by_severity() -> None:
    table = findings_table(FINDINGS)
    assert table.row_count == len(FINDINGS)
    out = _render(table)
    assert out.index("CRITICAL") < out.index("MEDIUM") < out.index("LOW")


def test_summary_panel_renders_counts() -> None:
    data = ReportData(FINDINGS, T0, "duckdb:///[red]lake[/red]", "r1", {FINDINGS[0].id: "NEW"})
    out = _render(summary_panel(data))
    assert "3 failing of 4 findings" in out
    assert "duckdb:///[red]lake[/red]" in out
    assert "Access control" in out and "Top failing checks" in out
    assert "s3_bucket_public_acl" in out
    assert "NOT_ASSESSED" in out and "NEW" in out


def test_safe_is_literal() -> None:
    assert safe("[b]x[/b]").plain == "[b]x[/b]"
    assert safe("abcdef", 4).plain == "abc…"
