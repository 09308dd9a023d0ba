"""The lake tables of CloudTrail ingestion: the events, and which files were already done.

`aws_cloudtrail_events` keeps top-level CloudTrail fields as typed columns (so rules filter on
plain columns), the nested parts as JSON, and the whole record in `raw` so nothing is lost.
The primary key is `event_id`: CloudTrail's eventID, which makes re-ingesting a file a no-op.
"""

from __future__ import annotations

from dataclasses import replace

from opencwpp.lake.schema import BOOL, INT64, JSON, TIMESTAMP, Column, Table, table

# (column, arrow type, dotted CloudTrail path). The path is where the value comes from.
SCALAR_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("event_id", "utf8", "eventID"),
    ("event_time", TIMESTAMP, "eventTime"),
    ("event_version", "utf8", "eventVersion"),
    ("event_source", "utf8", "eventSource"),
    ("event_name", "utf8", "eventName"),
    ("aws_region", "utf8", "awsRegion"),
    ("source_ip_address", "utf8", "sourceIPAddress"),
    ("user_agent", "utf8", "userAgent"),
    ("error_code", "utf8", "errorCode"),
    ("error_message", "utf8", "errorMessage"),
    ("request_id", "utf8", "requestID"),
    ("shared_event_id", "utf8", "sharedEventID"),
    ("recipient_account_id", "utf8", "recipientAccountId"),
    ("event_type", "utf8", "eventType"),
    ("event_category", "utf8", "eventCategory"),
    ("read_only", BOOL, "readOnly"),
    ("management_event", BOOL, "managementEvent"),
    ("vpc_endpoint_id", "utf8", "vpcEndpointId"),
    ("user_identity_type", "utf8", "userIdentity.type"),
    ("user_identity_arn", "utf8", "userIdentity.arn"),
    ("user_identity_principal_id", "utf8", "userIdentity.principalId"),
    ("user_identity_account_id", "utf8", "userIdentity.accountId"),
    ("user_identity_access_key_id", "utf8", "userIdentity.accessKeyId"),
    ("user_identity_user_name", "utf8", "userIdentity.userName"),
    ("user_identity_invoked_by", "utf8", "userIdentity.invokedBy"),
    ("session_issuer_arn", "utf8", "userIdentity.sessionContext.sessionIssuer.arn"),
    ("session_issuer_type", "utf8", "userIdentity.sessionContext.sessionIssuer.type"),
    ("session_issuer_user_name", "utf8", "userIdentity.sessionContext.sessionIssuer.userName"),
    (
        "session_mfa_authenticated",
        "utf8",
        "userIdentity.sessionContext.attributes.mfaAuthenticated",
    ),
)

# (column, CloudTrail key): nested parts kept as JSON.
JSON_FIELDS: tuple[tuple[str, str], ...] = (
    ("user_identity", "userIdentity"),
    ("request_parameters", "requestParameters"),
    ("response_elements", "responseElements"),
    ("resources", "resources"),
    ("additional_event_data", "additionalEventData"),
    ("tls_details", "tlsDetails"),
    ("service_event_details", "serviceEventDetails"),
)

EVENTS: Table = replace(
    table(
        "aws_cloudtrail_events",
        [(name, kind) for name, kind, _ in SCALAR_FIELDS]
        + [(name, JSON) for name, _ in JSON_FIELDS]
        + [("raw", JSON), "source", ("ingested_at", TIMESTAMP)],
        description="CloudTrail records: typed top-level fields, nested parts as JSON, raw kept.",
    ),
    primary_key=("event_id",),
)

INGEST_STATE = Table(
    name="cwpp_ingest_state",
    columns=(
        Column("source_uri"),
        Column("size", INT64),
        Column("etag"),
        Column("events", INT64),
        Column("rejected", INT64),
        Column("outcome"),
        Column("ingested_at", TIMESTAMP),
    ),
    primary_key=("source_uri",),
    synced=False,
    description="Files and S3 keys already ingested (with size and etag), so re-runs skip them.",
)
