"""The threats page over real HTTP: the alert timeline and the events behind each alert.

The lake holds alerts from the real pipeline (CloudTrail ingested, a Sigma rule run by `detect`),
on DuckDB and PostgreSQL; the hostile user name and user agent must come back as text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from opencwpp.lake import Lake
from opencwpp.web import WebConfig
from opencwpp.web.server import running
from tests.integration.test_report_alert_events import HOSTILE, MALLORY, ZOE, seed_alerts
from tests.integration.test_web_dashboard import _get


@pytest.fixture
def threats_site(lake_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with Lake.open(lake_url) as lake:
        seed_alerts(lake, tmp_path)
    with running(WebConfig(lake_url)) as base:
        yield base, lake_url


def _alert_blocks(page: str) -> list[str]:
    return re.findall(r'<li class="alert".*?</li>\s*(?=<li class="alert"|</ol>)', page, re.S)


def test_timeline_is_ordered_by_activity_and_opens_onto_the_events(
    threats_site: tuple[str, str],
) -> None:
    base, _ = threats_site
    status, page, headers = _get(base + "/threats")
    assert status == 200
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "<img src=x" not in page and "<script" not in page.split("</head>", 1)[1]
    blocks = _alert_blocks(page)
    assert len(blocks) == 2
    # Both alerts come from one detect run; zoe's events are the newer, so hers comes first.
    assert "user/zoe" in blocks[0] and "ev-zoe-1" in blocks[0]
    mallory = blocks[1]
    assert "2025-03-01 12:05:00" in mallory  # last activity = last event time, to the second
    assert "first 2025-03-01 12:00:00" in mallory
    rows = re.findall(r'<tr class="event">(.*?)</tr>', mallory, re.S)
    assert len(rows) == 2
    assert "2025-03-01 12:00:00" in rows[0] and "StopLogging" in rows[0]
    assert "ev-stop-1" in rows[0] and "203.0.113.7" in rows[0]
    assert "AccessDenied" in rows[1] and "ssm.amazonaws.com" in rows[1]
    assert "ev-start-1" not in page  # the same user's StartLogging is no part of the alert
    assert html.escape(MALLORY, quote=False) in rows[0]  # the principal, as text
    assert "aws-cli/2.15.0 &lt;img src=x onerror=alert(1)&gt;" in rows[0]  # the user agent
    assert '<svg class="chart trend"' in page and "Alerts per day" in page


def test_api_threats_returns_the_events_and_missing_ids(threats_site: tuple[str, str]) -> None:
    base, url = threats_site
    with Lake.open(url) as lake:
        lake.execute("DELETE FROM aws_cloudtrail_events WHERE event_id = ?", ["ev-stop-2"])
    alerts = json.loads(_get(base + "/api/threats")[1])
    assert [a["resource_uid"] for a in alerts] == [ZOE, MALLORY]
    mallory = alerts[1]
    assert [(e["event_id"], e["event_name"], e["principal"]) for e in mallory["events"]] == [
        ("ev-stop-1", "StopLogging", MALLORY)
    ]
    assert mallory["events"][0]["user_agent"] == f"aws-cli/2.15.0 {HOSTILE}"
    assert mallory["missing_event_ids"] == ["ev-stop-2"]
    assert mallory["activity_last"].startswith("2025-03-01T12:05:00")
    _, page, _ = _get(base + "/threats")
    assert re.search(r'<ul class="events mono missing"><li>ev-stop-2</li></ul>', page)


def test_resource_page_of_an_identity_lists_its_alerts_and_events(
    threats_site: tuple[str, str],
) -> None:
    base, _ = threats_site
    status, page, _ = _get(base + "/resource?" + urlencode({"uid": MALLORY}))
    assert status == 200 and "<img src=x" not in page
    section = page.split('id="alerts"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr class="event">(.*?)</tr>', section, re.S)
    assert [("ev-stop-1" in r, "ev-stop-2" in r) for r in rows] == [(True, False), (False, True)]
    assert 'last activity <span class="mono">2025-03-01 12:05:00</span>' in section
    _, other, _ = _get(base + "/resource?" + urlencode({"uid": ZOE}))
    assert "ev-zoe-1" in other and "ev-stop-1" not in other  # only this identity's alerts


def test_threats_page_without_events_table_or_alerts(lake_url: str) -> None:
    with running(WebConfig(lake_url)) as base:
        status, page, _ = _get(base + "/threats")
    assert status == 200 and "No threat detections in the lake" in page
    assert "Alerts per day" not in page
