"""Posture checks: one folder each (metadata, SQL, cases), discovered from disk."""

from opencwpp.checks.discovery import Check, builtin_checks, discover, load_check, provider_checks
from opencwpp.checks.engine import run_check, run_checks
from opencwpp.checks.metadata import CheckMetadata

__all__ = [
    "Check",
    "CheckMetadata",
    "builtin_checks",
    "discover",
    "load_check",
    "provider_checks",
    "run_check",
    "run_checks",
]
