"""The new dashboard pages in a real headless Chromium: a scan clicked and followed to 100 %, the
escalation graph on the identity page, who can access a resource. Screenshots go to
out/screenshots (dashboard-scan*.png, dashboard-identity-graph.png, dashboard-resource-access.png).
"""

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from opencwpp.lake import Lake
from opencwpp.web import WebConfig
from opencwpp.web import scan as scan_module
from opencwpp.web.server import running
from tests.integration.test_web_browser import SCREENSHOTS, Watch, browser, page
from tests.integration.test_web_dashboard import HOSTILE, seed_lake
from tests.integration.test_web_identity_access import DEV, fill_iam

__all__ = ["browser", "page"]  # the shared fixtures, used by name below


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The seeded lake is assessed faster than the page polls; a real estate takes seconds. Each
    # step of the server's assessment is slowed a little so the bar's way to 100 can be watched.
    patch = pytest.MonkeyPatch()
    patch.setattr(scan_module, "assess", _slowed(scan_module.assess))
    folder = tmp_path_factory.mktemp("web-scan")
    url = f"duckdb://{folder / 'lake.duckdb'}"
    with Lake.open(url) as lake:
        seed_lake(lake)
        fill_iam(lake)
    try:
        with running(WebConfig(url, folder / "mutelist.yaml")) as base:
            yield base
    finally:
        patch.undo()


def _slowed(assess: Callable[..., Any]) -> Callable[..., Any]:
    def slowed(*args: Any, progress: Callable[[str, int, int], None], **kwargs: Any) -> Any:
        def step(name: str, done: int, total: int) -> None:
            time.sleep(0.01)
            progress(name, done, total)

        return assess(*args, progress=step, **kwargs)

    return slowed


def _shot(pg: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)


def _count(pg: Any) -> int:
    text = pg.locator("#result-count").inner_text()
    found = re.match(r"^(\d+) matching findings$", text)
    assert found, text
    return int(found.group(1))


def test_click_scan_and_watch_the_bar_reach_100(site: str, page: tuple[Any, Watch]) -> None:
    pg, watch = page
    pg.goto(site + "/findings", wait_until="networkidle")
    before = _count(pg)
    pg.goto(site + "/scan", wait_until="networkidle")
    assert pg.locator("#scan-bar").evaluate("b => b.value") == 0
    _shot(pg, "scan-idle")
    pg.click("#scan-start")
    seen: list[float] = []
    for _ in range(1200):  # at most 120 s
        value = float(pg.locator("#scan-bar").evaluate("b => b.value"))
        seen.append(value)
        if value >= 100:
            break
        if len(seen) == 5:
            assert pg.locator("#scan-start").is_disabled()  # one scan at a time
            _shot(pg, "scan-running")
        pg.wait_for_timeout(100)
    assert seen[-1] == 100, seen[-10:]
    assert any(0 < v < 100 for v in seen), "the bar jumped straight to the end"
    assert seen == sorted(seen)
    pg.wait_for_selector("#scan-result", state="visible")
    assert pg.locator("#scan-percent").inner_text() == "100 %"
    assert re.match(r"^\d+ findings, \d+ failing \(run ", pg.locator("#scan-summary").inner_text())
    assert pg.locator("#scan-error").inner_text() == ""
    _shot(pg, "scan")
    with pg.expect_navigation():
        pg.click("#scan-findings")
    assert "status=FAIL" in pg.url
    pg.goto(site + "/findings", wait_until="networkidle")
    assert _count(pg) > before  # the new run's findings are on the findings page
    watch.assert_clean()


def test_identity_page_draws_the_escalation_graph(site: str, page: tuple[Any, Watch]) -> None:
    pg, watch = page
    pg.goto(site + "/identity", wait_until="networkidle")
    graph = pg.locator("#escalation-graph")
    assert graph.is_visible()
    assert pg.locator("#escalation-graph g.node").count() == 4
    box = graph.bounding_box()
    assert box is not None and box["width"] > 500
    assert pg.locator("#escalation-graph g.node-admin text").text_content() == "admin"
    _shot(pg, "identity-graph")
    with pg.expect_navigation():  # a principal node links to its resource page
        pg.locator("#escalation-graph a").first.click()
    assert "/resource?uid=" in pg.url and DEV.rsplit("/", 1)[1] in pg.url
    watch.assert_clean()


def test_resource_page_shows_who_can_access_and_public(site: str, page: tuple[Any, Watch]) -> None:
    pg, watch = page
    pg.goto(site + "/resource?uid=arn:aws:s3:::data", wait_until="networkidle")
    flag = pg.locator("#public-flag")
    assert flag.is_visible() and "anyone (anonymous)" in flag.inner_text()
    assert pg.locator("table.access tbody tr").count() == 5
    _shot(pg, "resource-access")
    pg.goto(site + "/resource?uid=arn:aws:s3:::hostile-bucket", wait_until="networkidle")
    assert pg.locator("img").count() == 0 and HOSTILE in pg.locator("main").inner_text()
    watch.assert_clean()
