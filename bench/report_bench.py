"""Reports and dashboard at 50,000 findings: render time, file size, time to usable in Chromium.

Renders every report format for synthetic findings (report/synthetic.py), opens the HTML report
in the system Chromium (Playwright, nothing downloaded) and times until the findings table is
ready and a search answers; then stores the findings in a DuckDB lake, serves the dashboard on
loopback and times its findings page on the server and in Chromium.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.lake import Lake
from opencwpp.report import ReportData
from opencwpp.report.formats import format_names, get_format
from opencwpp.report.synthetic import synthetic_findings
from opencwpp.web import WebConfig
from opencwpp.web.server import running

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def timed(fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_formats(data: ReportData, folder: Path) -> Path:
    print(f"{'format':<10} {'render s':>9} {'size MB':>9}")
    html_path = folder / "report.html"
    for name in format_names():
        seconds, text = timed(lambda name=name: get_format(name).render(data), repeat=2)
        path = folder / f"report.{get_format(name).extension}"
        path.write_text(text, encoding="utf-8")
        if name == "html":
            html_path = path
        print(f"{name:<10} {seconds:>9.2f} {len(text.encode()) / 1e6:>9.2f}")
    return html_path


def bench_browser(html: Path, base: str | None) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        start = time.perf_counter()
        page.goto(html.as_uri(), wait_until="domcontentloaded")
        loaded = time.perf_counter() - start
        page.wait_for_selector("#ft.ready", timeout=120_000)
        ready = time.perf_counter() - start
        start = time.perf_counter()
        page.fill("#ft-search", "resource-004242")
        expect(page.locator("#ft-count")).to_have_text("1 of 50,000 findings", timeout=30_000)
        search = time.perf_counter() - start - 0.12  # minus the input debounce
        rows = page.locator(".ft-row").count()
        print(
            f"HTML report in Chromium: DOM loaded {loaded:.2f} s, table ready {ready:.2f} s, "
            f"search answered {search:.3f} s, rows in DOM {rows}"
        )
        if base:
            for path in ("/findings?status=FAIL", "/findings?group=check", "/"):
                start = time.perf_counter()
                page.goto(base + path, wait_until="load")
                took = time.perf_counter() - start
                print(f"dashboard {path:<24} loaded in Chromium in {took:.2f} s")
        browser.close()


def bench_dashboard(findings: list, folder: Path) -> tuple[str, None]:  # type: ignore[type-arg]
    url = f"duckdb://{folder / 'lake.duckdb'}"
    with Lake.open(url) as lake:
        start = time.perf_counter()
        run = start_run(lake, "assess")
        save_findings(lake, run, findings, [])
        finish_run(lake, run, "ok", {})
        print(f"stored {len(findings)} findings in DuckDB in {time.perf_counter() - start:.1f} s")
    return url, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    findings = synthetic_findings(args.count)
    print(f"generated {len(findings)} synthetic findings in {time.perf_counter() - start:.1f} s")
    data = ReportData(findings, datetime.now(UTC), "duckdb:///bench")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        html = bench_formats(data, folder)
        url, _ = bench_dashboard(findings, folder)
        with running(WebConfig(url)) as base:
            for path in (
                "/findings?status=FAIL",
                "/findings?group=check",
                "/",
                "/compliance",
                "/api/findings?q=resource-004242",
            ):
                seconds, size = timed(
                    lambda path=path: len(urllib.request.urlopen(base + path).read())
                )
                print(f"dashboard GET {path:<34} {seconds * 1000:>7.0f} ms  {size / 1e3:>7.0f} KB")
            if not args.no_browser:
                bench_browser(html, base)


if __name__ == "__main__":
    main()
