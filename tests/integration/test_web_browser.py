"""The dashboard in a real headless Chromium (Debian's, driven by Playwright; nothing downloaded).

Every request the pages make is checked to stay on loopback, console errors (CSP violations
included) fail the test, and a JavaScript dialog would mean injected markup ran.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from opencwpp.findings import load_mutelist
from opencwpp.lake import Lake
from opencwpp.web import WebConfig
from opencwpp.web.server import running
from tests.integration.test_web_dashboard import BUCKET, HOSTILE, seed_lake

CHROMIUM = os.environ.get("CWPP_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


def chromium_or_skip() -> str:
    """The system Chromium; skipped when absent, failing under CI (scripts/install-browser.sh)."""
    if shutil.which(CHROMIUM) is None:
        message = f"{CHROMIUM} not installed (run scripts/install-browser.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


class Watch:
    """What a page did that a test must see: outside requests, console errors, dialogs."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)

    def route(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "file", "blob") or parts.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests left loopback: {self.outside}"
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.dialogs == [], f"a dialog fired (injected script ran): {self.dialogs}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_or_skip()
    with sync_api.sync_playwright() as p:
        # Playwright gives every launch a fresh temporary user-data-dir.
        b = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("web")
    url = f"duckdb://{folder / 'lake.duckdb'}"
    with Lake.open(url) as lake:
        seed_lake(lake)
    mutelist = folder / "mutelist.yaml"
    mutelist.write_text("mutes: []\n")
    with running(WebConfig(url, mutelist)) as base:
        yield base, mutelist


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Watch]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    watch = Watch()
    context.route("**/*", watch.route)
    pg = context.new_page()
    watch.attach(pg)
    yield pg, watch
    context.close()


def _shot(pg: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)


def test_main_pages_load_clean_and_are_captured(site: tuple[str, Path], page: Any) -> None:
    base, _ = site
    pg, watch = page
    for name, path in [
        ("overview", "/"),
        ("findings", "/findings"),
        ("findings-by-check", "/findings?group=check"),
        ("compliance", "/compliance"),
        ("threats", "/threats"),
        ("identity", "/identity"),
    ]:
        pg.goto(base + path, wait_until="networkidle")
        assert pg.locator("main").count() == 1, path
        if name == "compliance":
            pg.locator("details.framework summary").first.click()
        _shot(pg, name)
    watch.assert_clean()


def test_filters_narrow_the_findings(site: tuple[str, Path], page: Any) -> None:
    base, _ = site
    pg, watch = page
    pg.goto(base + "/findings", wait_until="networkidle")
    assert pg.locator("#result-count").inner_text() == "4 matching findings"
    with pg.expect_navigation():
        pg.select_option("select[name=status]", "FAIL")  # submits on change
    assert pg.locator("#result-count").inner_text() == "3 matching findings"
    pg.fill("input[name=q]", "mallory")
    with pg.expect_navigation():
        pg.click("button[type=submit]")
    assert pg.locator("#result-count").inner_text() == "1 matching findings"
    assert pg.locator("table.findings-table tbody tr").count() == 1
    watch.assert_clean()


def test_hostile_tag_renders_as_text(site: tuple[str, Path], page: Any) -> None:
    base, _ = site
    pg, watch = page
    pg.goto(f"{base}/resource?uid={BUCKET}", wait_until="networkidle")
    assert pg.locator("img").count() == 0
    assert HOSTILE in pg.locator("main").inner_text()
    _shot(pg, "resource")
    pg.goto(base + "/findings", wait_until="networkidle")
    assert pg.locator("img").count() == 0
    assert HOSTILE in pg.locator("table.findings-table").inner_text()
    watch.assert_clean()


def test_mute_flow_writes_a_valid_mutelist_entry(site: tuple[str, Path], page: Any) -> None:
    base, mutelist = site
    pg, watch = page
    pg.goto(base + "/findings?status=FAIL&check=kms_key_rotation", wait_until="networkidle")
    pg.click(".mute-btn")
    assert pg.locator("#mute-dialog").is_visible()
    assert pg.input_value("#mute-form input[name=check]") == "kms_key_rotation"
    pg.fill("#mute-form input[name=owner]", "alice@example.com")
    pg.fill("#mute-form textarea[name=reason]", "rotation handled by the HSM")
    _shot(pg, "mute-dialog")
    pg.click("#mute-save")
    pg.wait_for_selector(".mute-btn.done")
    rules = load_mutelist(mutelist).rules
    assert [(r.check, r.owner) for r in rules] == [("kms_key_rotation", "alice@example.com")]
    assert rules[0].expires is not None and rules[0].resource.startswith("arn:aws:kms:")
    watch.assert_clean()
