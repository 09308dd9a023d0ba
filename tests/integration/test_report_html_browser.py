"""The HTML report in a real headless Chromium: CSP-pinned script runs, the table filters,
sorts and renders virtually, hostile names stay text, and nothing leaves the file."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from opencwpp.report import ReportData
from opencwpp.report.diff import TrendPoint
from opencwpp.report.formats import get_format
from opencwpp.report.synthetic import HOSTILE_TAG, synthetic_findings
from tests.integration.test_web_browser import FLAGS, SCREENSHOTS, Watch, chromium_or_skip

COUNT = 3000


@pytest.fixture(scope="module")
def report_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_or_skip()
    findings = synthetic_findings(COUNT)
    trend = [
        TrendPoint(
            f"run-{i}", datetime(2025, 5, 20 + i, tzinfo=UTC), {"critical": 40 - i, "high": 90 + i}
        )
        for i in range(6)
    ]
    data = ReportData(
        findings, datetime(2025, 6, 1, tzinfo=UTC), "duckdb:///lake", "run-5", trend=trend
    )
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(get_format("html").render(data), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield browser, path
        browser.close()


@pytest.fixture
def report_page(report_browser: tuple[Any, Path]) -> Iterator[tuple[Any, Watch]]:
    browser, path = report_browser
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = Watch()
    context.route("**/*", watch.route)
    page = context.new_page()
    watch.attach(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector("#ft.ready")
    yield page, watch
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    context.close()


def _count(page: Any) -> str:
    return str(page.locator("#ft-count").inner_text())


def test_report_loads_clean_with_the_table_rendered_virtually(
    report_page: tuple[Any, Watch],
) -> None:
    page, watch = report_page
    assert _count(page) == f"{COUNT:,} of {COUNT:,} findings"
    rendered = page.locator(".ft-row").count()
    assert 0 < rendered < 100  # only the visible window exists in the DOM
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-top.png"))
    page.locator("#ft").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "report-table.png"))
    watch.assert_clean()


def test_report_search_filters_and_sort(report_page: tuple[Any, Watch]) -> None:
    page, watch = report_page
    page.fill("#ft-search", "resource-000042")
    expect(page.locator("#ft-count")).to_have_text(re.compile("^1 of"))
    assert page.locator(".ft-row").count() == 1
    page.fill("#ft-search", "")
    page.select_option("select[data-col='0']", label="critical")
    expect(page.locator("#ft-count")).not_to_have_text(re.compile("^3,000 of"))
    critical = int(_count(page).split(" of ")[0].replace(",", ""))
    assert 0 < critical < COUNT
    assert set(page.locator(".ft-row .c-badge:first-child .badge").all_text_contents()) == {
        "critical"
    }
    page.select_option("select[data-col='0']", value="")
    page.click("[data-sort='3']")  # check id, ascending
    first = page.locator(".ft-row .c-check").first.inner_text()
    assert first == "GHSA-0000-synthetic"
    watch.assert_clean()


def test_report_hostile_tags_are_text(report_page: tuple[Any, Watch]) -> None:
    page, watch = report_page
    page.fill("#ft-search", "onerror")
    expect(page.locator("#ft-count")).not_to_have_text(re.compile("^3,000 of"))
    assert HOSTILE_TAG in page.locator(".ft-rows").inner_text()
    assert page.locator("img").count() == 0
    watch.assert_clean()
