"""The threats page in a real headless Chromium: the alert timeline, an alert opened onto the
CloudTrail events behind it, hostile text shown as text, nothing leaving loopback. Screenshots go
to out/screenshots (dashboard-threats-timeline.png, dashboard-threats-events.png,
dashboard-threats-resource-alerts.png).
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opencwpp.lake import Lake
from opencwpp.web import WebConfig
from opencwpp.web.server import running
from tests.integration.test_report_alert_events import HOSTILE, MALLORY, seed_alerts
from tests.integration.test_web_browser import SCREENSHOTS, Watch, browser, page

__all__ = ["browser", "page"]  # the shared fixtures, used by name below


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("web-threats")
    url = f"duckdb://{folder / 'lake.duckdb'}"
    with Lake.open(url) as lake:
        seed_alerts(lake, Path(folder))
    with running(WebConfig(url)) as base:
        yield base


def _shot(pg: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)


def test_alert_opens_onto_its_events_as_text(site: str, page: tuple[Any, Watch]) -> None:
    pg, watch = page
    pg.goto(site + "/threats", wait_until="networkidle")
    alerts = pg.locator("#alerts > li.alert")
    assert alerts.count() == 2
    assert pg.locator("svg.chart.trend").count() == 1  # alerts per day
    _shot(pg, "threats-timeline")
    mallory = alerts.nth(1)
    table = mallory.locator("table.events")
    assert not table.is_visible()  # closed until asked for
    mallory.locator("details.alert-events > summary").click()
    assert table.is_visible()
    rows = table.locator("tbody tr.event")
    assert rows.count() == 2
    assert rows.nth(0).locator(".event-name").inner_text() == "StopLogging"
    assert rows.nth(0).locator(".event-id").inner_text() == "ev-stop-1"
    assert rows.nth(0).locator("td").first.inner_text() == "2025-03-01 12:00:00"
    assert rows.nth(0).locator("td.principal").inner_text() == MALLORY
    assert HOSTILE in rows.nth(0).locator(".ua").inner_text()
    assert pg.locator("img").count() == 0  # the hostile markup never became an element
    _shot(pg, "threats-events")
    # The principal links to its resource page, where the alert is listed.
    with pg.expect_navigation():
        rows.nth(0).locator("td.principal a").click()
    assert MALLORY in pg.locator(".uid.big").inner_text()
    assert pg.locator("#alerts tr.event").count() == 2
    assert pg.locator("#alerts .event-name").first.inner_text() == "StopLogging"
    assert pg.locator("img").count() == 0
    _shot(pg, "threats-resource-alerts")
    watch.assert_clean()
