"""The infrastructure data lake: tables in DuckDB (default) or PostgreSQL."""

from opencwpp.lake.lake import Lake, Scope, redact_url
from opencwpp.lake.schema import Column, Table, cq_id, table

__all__ = ["Column", "Lake", "Scope", "Table", "cq_id", "redact_url", "table"]
