"""Helpers the interchange formats (SARIF, OCSF, ASFF, JUnit, Markdown) share."""

from __future__ import annotations

from datetime import UTC, datetime

from opencwpp import __version__
from opencwpp.core.models import Finding

TOOL_NAME = "opencwpp"
TOOL_URI = "https://github.com/opencwpp/opencwpp"


def tool_version() -> str:
    """The version written into every export's tool/product block."""
    return __version__


def utc(value: datetime) -> datetime:
    """`value` in UTC; naive datetimes are taken as UTC (the lake stores UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the Unix epoch (OCSF timestamps)."""
    return int(utc(value).timestamp() * 1000)


def seen_at(finding: Finding, fallback: datetime) -> datetime:
    """When the finding was last observed, or `fallback` (the report time) when unknown."""
    return finding.last_seen or finding.first_seen or fallback


def cloud_provider(uid: str) -> str:
    """The cloud a resource uid belongs to: AWS for ARNs, Azure for resource ids, else Other."""
    lowered = uid.lower()
    if lowered.startswith("arn:"):
        return "AWS"
    if lowered.startswith("/subscriptions/"):
        return "Azure"
    return "Other"


def aws_partition(uid: str) -> str:
    """The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` for anything else."""
    parts = uid.split(":", 2)
    if len(parts) >= 2 and parts[0] == "arn" and parts[1]:
        return parts[1]
    return "aws"


def frameworks(finding: Finding) -> list[str]:
    """The compliance references of a finding as `framework requirement` strings, sorted."""
    return sorted(f"{fw} {req}" for fw, reqs in finding.compliance.items() for req in reqs)
