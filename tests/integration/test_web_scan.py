"""A scan started from the dashboard, over real HTTP: guarded POST, one at a time, live progress,
errors shown; sync from the moto server (demo estate) then assess, on DuckDB and PostgreSQL."""

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from opencwpp.demo.estate import EstateManifest
from opencwpp.lake import Lake
from opencwpp.web import AwsScan, WebConfig
from opencwpp.web.server import running
from tests.integration.test_web_dashboard import _get, _post, seed_lake

WRITE = {"X-CWPP-Request": "1"}
SYNCED = ("s3.buckets", "s3.account", "iam.users", "iam.groups", "iam.roles", "iam.policies")


def follow(base: str, limit: float = 120) -> list[dict[str, Any]]:
    """Polls /api/scan until the scan ends; every status seen, in order."""
    seen = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        status, body, _ = _get(base + "/api/scan")
        assert status == 200, body
        seen.append(json.loads(body))
        if seen[-1]["state"] in ("done", "failed"):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"scan still running after {limit} s: {seen[-1]}")


def test_sync_then_assess_with_live_progress(
    lake_url: str, moto_endpoint: str, demo_estate: EstateManifest
) -> None:
    with Lake.open(lake_url) as lake:
        seed_lake(lake)
    aws = AwsScan(regions=("us-east-1",), endpoint_url=moto_endpoint, resources=SYNCED)
    with running(WebConfig(lake_url, aws_scan=aws)) as base:
        assert json.loads(_get(base + "/api/scan")[1])["state"] == "idle"
        # a cross-site form cannot start a scan: no X-CWPP-Request header
        assert _post(base + "/api/scan", {}, {})[0] == 403
        status, started = _post(base + "/api/scan", {}, WRITE)
        assert status == 202 and started["state"] == "running" and started["sync"] is True
        status, busy = _post(base + "/api/scan", {}, WRITE)
        assert status == 409 and "still running" in busy["error"]
        assert busy["scan"]["scan_id"] == started["scan_id"]
        seen = follow(base)
        final = seen[-1]
        assert final["state"] == "done", final
        assert final["percent"] == 100 and final["error"] is None
        percents = [s["percent"] for s in seen]
        assert percents == sorted(percents)  # the bar never goes back
        phases = {s["phase"] for s in seen if s["state"] == "running"}
        assert "assess" in phases
        result = final["result"]
        assert result["checks"] > 100 and result["findings"] >= result["checks"]
        # the findings page shows the new run: the demo estate's public-ACL bucket fails
        page = json.loads(_get(base + "/api/findings?check=s3_bucket_public_acl&status=FAIL")[1])
        assert demo_estate.buckets["public_acl"] in {f["resource_uid"] for f in page["findings"]}
        runs = json.loads(_get(base + "/api/runs?kind=assess")[1])
        assert runs[0]["run_id"] == result["run_id"]
        # a second scan may start once the first is done
        assert _post(base + "/api/scan", {}, WRITE)[0] == 202
        assert follow(base)[-1]["state"] == "done"


def test_errors_are_shown_not_swallowed(tmp_path: Path, moto_endpoint: str) -> None:
    url = f"duckdb://{tmp_path / 'lake.duckdb'}"
    aws = AwsScan(regions=("xx-nowhere-1",), endpoint_url=moto_endpoint)
    with running(WebConfig(url, aws_scan=aws)) as base:
        assert _post(base + "/api/scan", {}, WRITE)[0] == 202
        final = follow(base)[-1]
        assert final["state"] == "failed"
        assert "unknown AWS region 'xx-nowhere-1'" in final["error"]
        status, page, _ = _get(base + "/scan")
        assert status == 200 and "Scan failed: unknown AWS region" in page


def test_assess_only_scan_and_the_scan_page(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'lake.duckdb'}"
    with Lake.open(url) as lake:
        seed_lake(lake)
    with running(WebConfig(url)) as base:
        status, page, headers = _get(base + "/scan")
        assert status == 200 and 'id="scan-start"' in page and "no AWS sync configured" in page
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert _post(base + "/api/scan", {}, WRITE)[0] == 202
        final = follow(base)[-1]
        assert final["state"] == "done" and final["sync"] is False
        assert final["result"]["by_status"]["NOT_ASSESSED"] > 0
        _, page, _ = _get(base + "/scan")
        assert 'id="scan-result"' in page and "hidden" not in page.split('id="scan-result"')[1][:20]


def test_scans_can_be_disabled(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'lake.duckdb'}"
    with running(WebConfig(url, scan_enabled=False)) as base:
        status, answer = _post(base + "/api/scan", {}, WRITE)
        assert status == 403 and "disabled" in answer["error"]
        _, page, _ = _get(base + "/scan")
        assert 'id="scan-start"' not in page


def test_token_guards_the_scan(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'lake.duckdb'}"
    token = "s" * 24
    with running(WebConfig(url, None, token, loopback_only=False)) as base:
        assert _post(base + "/api/scan", {}, WRITE)[0] == 401
        auth = WRITE | {"Authorization": f"Bearer {token}"}
        assert _post(base + "/api/scan", {}, auth)[0] == 202
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            _, body, _ = _get(base + "/api/scan", auth)
            if json.loads(body)["state"] != "running":
                break
            time.sleep(0.2)
        assert json.loads(body)["state"] == "done"


@pytest.mark.parametrize("path", ["/api/scan"])
def test_scan_status_is_in_the_openapi_document(tmp_path: Path, path: str) -> None:
    with running(WebConfig(f"duckdb://{tmp_path / 'l.duckdb'}")) as base:
        openapi = json.loads(_get(base + "/api/openapi.json")[1])
        assert {"get", "post"} <= set(openapi["paths"][path])


def test_an_unexpected_error_fails_the_scan_and_reaches_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opencwpp.web import scan as scan_module

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom")

    raised: list[BaseException | None] = []
    monkeypatch.setattr(scan_module, "assess", broken)
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    scanner = scan_module.Scanner(f"duckdb://{tmp_path / 'l.duckdb'}", None, None)
    scanner.start()
    final = scanner.wait(60)
    assert final.state == "failed" and final.error == "internal error: see the server log"
    assert [type(e) for e in raised] == [RuntimeError]  # raised on, not swallowed
