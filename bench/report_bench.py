"""Reports and dashboard at 50,000 findings: render time, file size, time to usable in Chromium.

Renders every report format for synthetic findings (report/synthetic.py) and prints each file's
size, opens the HTML report in the system Chromium (Playwright, nothing downloaded) and times its
first render (first-contentful-paint) and until the findings table is ready and a search answers;
then stores the findings in a DuckDB lake, serves the dashboard on loopback and times its findings
page on the server and in Chromium (first render, with the page's HTML and asset sizes).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from opencwpp.core.models import Pillar
from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.lake import Lake
from opencwpp.report import ReportData
from opencwpp.report.formats import format_names, get_format
from opencwpp.report.synthetic import synthetic_findings
from opencwpp.web import WebConfig
from opencwpp.web.server import running

CHROMIUM = "/usr/bin/chromium"
CVSS = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
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


def with_vulnerability_evidence(findings: list) -> list:  # type: ignore[type-arg]
    """The synthetic vulnerability findings with the matcher's evidence (for the SBOM formats)."""
    out = []
    for f in findings:
        if f.pillar is not Pillar.VULNERABILITY:
            out.append(f)
            continue
        n = f.evidence.get("n", 0)
        name, version, cve = f"lib{n % 700:03d}", f"1.{n % 13}.0", f"CVE-2099-{n % 2500:04d}"
        evidence = {
            "target": f.resource.uid,
            "package": {
                "name": name,
                "version": version,
                "ecosystem": "PyPI",
                "purl": f"pkg:pypi/{name}@{version}",
                "paths": [f"app/{name}"],
            },
            "vulnerability": {
                "id": cve,
                "aliases": [f"GHSA-{n % 2500:04d}-synt-hetc"],
                "summary": "synthetic advisory",
                "cvss": [{"type": "CVSS_V3", "vector": CVSS, "score": 9.8}],
                "kev": n % 50 == 0,
                "epss": (n % 100) / 100,
            },
            "fixed_versions": [f"1.{n % 13}.1"],
            "priority": {"level": "high", "reasons": []},
        }
        out.append(replace(f, evidence=evidence))
    return out


def bench_formats(data: ReportData, folder: Path) -> Path:
    empty = get_format("html").render(replace(data, findings=[]))
    print(f"HTML report with no findings (its own code): {len(empty.encode()) / 1e3:.1f} KB")
    print(f"{'format':<10} {'render s':>9} {'size MB':>9}")
    html_path = folder / "report.html"
    for name in format_names():
        seconds, text = timed(lambda name=name: get_format(name).render(data), repeat=2)
        path = folder / f"report.{get_format(name).extension}"
        path.write_text(text, encoding="utf-8")
        if name == "html":
            html_path = path
        print(f"{name:<10} {seconds:>9.2f} {len(text.encode()) / 1e6:>9.3f}")
    return html_path


FCP_JS = "() => performance.getEntriesByName('first-contentful-paint').length > 0"
PAINT_JS = "() => performance.getEntriesByName('first-contentful-paint')[0].startTime"
SIZES_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const assets = performance.getEntriesByType('resource');
  return {html: nav.decodedBodySize, assets: assets.reduce((n, r) => n + r.decodedBodySize, 0),
          response: nav.responseEnd, dom: nav.domContentLoadedEventEnd};
}"""


def first_render(page, url: str) -> tuple[float, float, dict]:  # type: ignore[no-untyped-def,type-arg]
    """(wall seconds to first paint, browser's first-contentful-paint in s, navigation sizes)."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(FCP_JS, timeout=120_000, polling=10)
    wall = time.perf_counter() - start
    return wall, page.evaluate(PAINT_JS) / 1000, page.evaluate(SIZES_JS)


def bench_first_render(browser, html: Path, base: str | None) -> None:  # type: ignore[no-untyped-def]
    print("time to first render in Chromium (first-contentful-paint; fresh page each):")
    rows = [("HTML report", html.as_uri())]
    if base:
        rows += [("dashboard findings", base + "/findings?status=FAIL")]
        rows += [("dashboard findings p.2", base + "/findings?status=FAIL&page=2")]
    for label, url in rows:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        wall, fcp, sizes = first_render(page, url)
        if url.startswith("file:"):
            size = f"file {html.stat().st_size / 1e6:.2f} MB"
        else:
            size = f"HTML {sizes['html'] / 1e3:.0f} KB + assets {sizes['assets'] / 1e3:.0f} KB"
        print(f"  {label:<24} FCP {fcp:6.2f} s  (wall {wall:5.2f} s)  {size}")
        context.close()


def bench_browser(html: Path, base: str | None) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        bench_first_render(browser, html, base)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        start = time.perf_counter()
        page.goto(html.as_uri(), wait_until="domcontentloaded")
        loaded = time.perf_counter() - start
        page.wait_for_selector("#ft.ready", timeout=120_000)
        ready = time.perf_counter() - start
        start = time.perf_counter()
        page.fill("#ft-search", "resource-004242")
        expect(page.locator("#ft-count")).to_have_text(
            re.compile(r"^1 of [\d,]+ findings$"), timeout=30_000
        )
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
    findings = with_vulnerability_evidence(synthetic_findings(args.count))
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
                "/threats",
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
