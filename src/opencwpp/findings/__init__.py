"""Findings in the lake: history across runs, and suppressions."""

from opencwpp.findings.mutelist import Mutelist, MuteRule, load_mutelist
from opencwpp.findings.store import (
    FindingFilter,
    StoredFinding,
    finish_run,
    load_findings,
    save_findings,
    start_run,
)

__all__ = [
    "FindingFilter",
    "MuteRule",
    "Mutelist",
    "StoredFinding",
    "finish_run",
    "load_findings",
    "load_mutelist",
    "save_findings",
    "start_run",
]
