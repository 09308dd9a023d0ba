"""Which findings are alerts with events, and the events table name the report reads."""

import pytest

from opencwpp.detect.ingest.table import EVENTS
from opencwpp.report.alert_events import EVENTS_TABLE
from opencwpp.report.model import alert_event_ids


def test_the_report_reads_the_table_detect_ingests_into() -> None:
    assert EVENTS.name == EVENTS_TABLE


@pytest.mark.parametrize(
    ("evidence", "ids"),
    [
        ({"event_ids": ["a", "b"], "event_count": 2}, ["a", "b"]),
        ({"event_ids": [1, "b"]}, ["1", "b"]),  # JSON round trips may turn ids into numbers
        ({"event_ids": []}, None),
        ({"event_ids": "a"}, None),  # not a list: not an alert's evidence
        ({"grants": ["AllUsers"]}, None),
        ({}, None),
        (None, None),
    ],
)
def test_alert_event_ids(evidence: dict[str, object] | None, ids: list[str] | None) -> None:
    assert alert_event_ids(evidence) == ids
