"""The lake tables of CloudTrail ingestion: the events, and which files were already done.

`aws_cloudtrail_events` keeps top-level CloudTrail fields as typed columns (so rules filter on
plain columns), the nested parts as JSON, and in `raw` the rest of the record: every key not
already kept verbatim in a column (eventTime, readOnly, any field CloudTrail adds later, and
keys whose value is null), so each record is stored once and nothing is lost:
`records.full_record(row)` puts it back together (`RECORD_TEXT` is its text for searches).
Events are unique by `event_id` (CloudTrail's eventID): re-ingesting a file is a no-op.
"""

from __future__ import annotations

from dataclasses import replace

from opencwpp.lake.lake import Lake
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

# Top-level keys whose (non-null) value is kept verbatim in its own column, not in `raw`: the
# text fields (as text) and the nested parts (as JSON).
MOVED_KEYS: tuple[tuple[str, str], ...] = (
    tuple((c, dotted) for c, kind, dotted in SCALAR_FIELDS if kind == "utf8" and "." not in dotted)
    + JSON_FIELDS
)

# The whole record as searchable text (Sigma keywords): `raw` and every moved column, one per
# line (JSON text holds no raw newline, so a keyword cannot match across two parts).
RECORD_TEXT = (
    'concat_ws(chr(10), CAST("raw" AS VARCHAR), '
    + ", ".join(
        f'"{column}"' if (column, key) not in JSON_FIELDS else f'CAST("{column}" AS VARCHAR)'
        for column, key in MOVED_KEYS
    )
    + ")"
)

EVENTS: Table = replace(
    table(
        "aws_cloudtrail_events",
        [(name, kind) for name, kind, _ in SCALAR_FIELDS]
        + [(name, JSON) for name, _ in JSON_FIELDS]
        + [("raw", JSON), "source", ("ingested_at", TIMESTAMP)],
        description=(
            "CloudTrail records: typed top-level fields, nested parts as JSON, the rest in raw."
        ),
    ),
    primary_key=("event_id",),
)

# On DuckDB the table has no primary key: ingestion deduplicates on event_id with an anti-join
# in the same transaction, and maintaining the key's index cost a third of the insert time.
# (An older lake loses its key at its next ingestion, see `drop_event_key`; PostgreSQL keeps
# it for `ON CONFLICT (event_id)`.)
EVENTS_DUCKDB: Table = replace(EVENTS, primary_key=())


def events_table(dialect: str) -> Table:
    """The events table as created on this backend (see EVENTS_DUCKDB)."""
    return EVENTS_DUCKDB if dialect == "duckdb" else EVENTS


def drop_event_key(lake: Lake) -> bool:
    """Rebuilds a DuckDB lake's events table without its key on event_id, if it has one.

    A lake made before the key was dropped keeps it, but ingestion now writes marker rows
    (event_id NULL) and, until the commit, the copies of an event a batch holds twice: with the
    key, every batch holding one failed and went file by file through the slow path. DuckDB
    cannot drop a key, so the table is copied (its rows and column types) in one transaction.
    Returns whether it was rebuilt.
    """
    if lake.dialect != "duckdb":
        return False
    keyed = lake.query(
        "SELECT 1 AS k FROM duckdb_constraints() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [EVENTS.name],
    )
    if not keyed:
        return False
    rebuilt = f"{EVENTS.name}__without_key"
    with lake.transaction():
        lake.execute(f'CREATE TABLE "{rebuilt}" AS SELECT * FROM "{EVENTS.name}"')
        lake.execute(f'DROP TABLE "{EVENTS.name}"')
        lake.execute(f'ALTER TABLE "{rebuilt}" RENAME TO "{EVENTS.name}"')
    return True


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
