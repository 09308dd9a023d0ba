"""The HTML report's own weight: the page with no findings is only its code (styles, script,
markup), which the issue caps at "a few hundred KB"; we hold it well below that."""

import re
from datetime import UTC, datetime

from opencwpp.report import ReportData
from opencwpp.report.formats import get_format

# Measured at 24.8 KB (inline CSS ~9.7 KB, script ~5.7 KB, template and empty charts the rest).
# The bound leaves room to grow while catching an inlined font or library by mistake.
EMPTY_REPORT_MAX_BYTES = 64 * 1024


def _empty_report() -> str:
    return get_format("html").render(ReportData([], datetime(2025, 1, 1, tzinfo=UTC), "x"))


def test_empty_html_report_stays_under_its_bound() -> None:
    size = len(_empty_report().encode("utf-8"))
    assert size < EMPTY_REPORT_MAX_BYTES, f"empty HTML report is {size} bytes"


def test_empty_html_report_references_nothing_outside_itself() -> None:
    page = _empty_report()
    # Only the SVG namespace is a URL; no src/href leaves the file, no @import or font URL.
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {"http://www.w3.org/2000/svg"}
    assert re.findall(r'\b(?:src|href)="([^"]*)"', page) == ["data:,"]
    assert "@import" not in page and "url(" not in page
