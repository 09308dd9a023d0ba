"""Findings in the lake: history across runs, and suppressions."""

from opencwpp.findings.mutelist import Mutelist, MuteRule, load_mutelist
from opencwpp.findings.read import FindingFilter, StoredFinding, load_findings, load_run_findings
from opencwpp.findings.store import finish_run, save_findings, start_run

__all__ = [
    "FindingFilter",
    "MuteRule",
    "Mutelist",
    "StoredFinding",
    "finish_run",
    "load_findings",
    "load_mutelist",
    "load_run_findings",
    "save_findings",
    "start_run",
]
