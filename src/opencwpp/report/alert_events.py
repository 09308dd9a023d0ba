"""The CloudTrail events behind threat-detection alerts, read back from the lake by event id.

`cwpp detect` stores each alert as a finding whose evidence lists the ids of its first events
(`event_ids`); the exports and the dashboard's threat timeline show those events (time, API call,
principal, source) next to the alert. Ids come from stored evidence, so they are bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opencwpp.core.models import Finding, Pillar
from opencwpp.lake.lake import Lake
from opencwpp.report.model import AlertEvent, alert_event_ids

# detect.ingest.table.EVENTS.name; not imported, as that package pulls in the S3 readers (a test
# keeps the two equal).
EVENTS_TABLE = "aws_cloudtrail_events"
_BATCH = 1000  # ids per query: well under PostgreSQL's 65,535 bound parameters
_COLUMNS = (
    "event_id, event_time, event_name, event_source, aws_region, source_ip_address, user_agent, "
    "error_code, user_identity_arn, user_identity_principal_id, user_identity_user_name, "
    "user_identity_type"
)


def _principal(row: Mapping[str, Any]) -> str:
    for column in (
        "user_identity_arn",
        "user_identity_principal_id",
        "user_identity_user_name",
        "user_identity_type",
    ):
        if row.get(column):
            return str(row[column])
    return ""


def _event(row: Mapping[str, Any]) -> AlertEvent:
    return AlertEvent(
        event_id=str(row["event_id"]),
        event_time=row["event_time"],
        event_name=str(row["event_name"] or ""),
        event_source=str(row["event_source"] or ""),
        principal=_principal(row),
        source_ip=str(row["source_ip_address"] or ""),
        region=str(row["aws_region"] or ""),
        error_code=str(row["error_code"] or ""),
        user_agent=str(row["user_agent"] or ""),
    )


def _fetch(lake: Lake, ids: Sequence[str]) -> dict[str, AlertEvent]:
    found: dict[str, AlertEvent] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        marks = ", ".join("?" for _ in batch)
        sql = f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE event_id IN ({marks})"
        for row in lake.query(sql, list(batch)):
            event = _event(row)
            found[event.event_id] = event
    return found


def load_events(lake: Lake, wanted: Mapping[str, Sequence[str]]) -> dict[str, list[AlertEvent]]:
    """For each key (an alert's finding id), the stored events among its ids, oldest first.

    Every key gets a list, empty when none of its events is in the lake (pruned, or the events
    table was never filled), so a reader can tell "looked up, none stored" from "not an alert".
    """
    ids = sorted({i for group in wanted.values() for i in group})
    found = _fetch(lake, ids) if ids and lake.table_exists(EVENTS_TABLE) else {}
    out: dict[str, list[AlertEvent]] = {}
    for key, group in wanted.items():
        events = [found[i] for i in dict.fromkeys(group) if i in found]
        events.sort(key=lambda e: (e.event_time is None, e.event_time or 0, e.event_id))
        out[key] = events
    return out


def load_alert_events(lake: Lake, findings: Iterable[Finding]) -> dict[str, list[AlertEvent]]:
    """The events behind every threat-detection finding whose evidence names event ids."""
    wanted: dict[str, list[str]] = {}
    for finding in findings:
        if finding.pillar is not Pillar.THREAT:
            continue
        ids = alert_event_ids(finding.evidence)
        if ids is not None:
            wanted[finding.id] = ids
    return load_events(lake, wanted) if wanted else {}
