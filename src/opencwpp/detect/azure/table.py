"""The lake table of Azure Activity Log (and resource log) records.

CloudQuery has no such table, hence the `cwpp_` name. Typed columns for what detections filter
on, the request body (redacted) as text, the whole (redacted) record in `raw`. Unique by
`record_id`: re-ingesting a file adds nothing.
"""

from __future__ import annotations

from dataclasses import replace

from opencwpp.lake.schema import JSON, TIMESTAMP, Table, table

ACTIVITY_EVENTS: Table = replace(
    table(
        "cwpp_azure_activity_events",
        [
            "record_id",
            ("event_time", TIMESTAMP),
            "operation_name",
            "category",
            "result_type",
            "result_signature",
            "caller",
            "caller_ip_address",
            "resource_id",
            "subscription_id",
            "correlation_id",
            "level",
            "request_body",
            ("authorization", JSON),
            ("properties", JSON),
            ("raw", JSON),
            "source",
            ("ingested_at", TIMESTAMP),
        ],
        description="Azure Activity Log and resource log records: typed fields, raw kept "
        "(secrets redacted).",
        indexes=[("event_time",)],
    ),
    primary_key=("record_id",),
    synced=False,
)
