"""CloudTrail ingestion into the lake's `aws_cloudtrail_events` table."""

from opencwpp.detect.ingest.records import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_RECORD_BYTES
from opencwpp.detect.ingest.run import FileOutcome, IngestReport, ingest
from opencwpp.detect.ingest.sources import SourceError, SourceFile, list_sources
from opencwpp.detect.ingest.table import EVENTS, INGEST_STATE
from opencwpp.detect.ingest.writer import ingested_uris

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_RECORD_BYTES",
    "EVENTS",
    "INGEST_STATE",
    "FileOutcome",
    "IngestReport",
    "SourceError",
    "SourceFile",
    "ingest",
    "ingested_uris",
    "list_sources",
]
