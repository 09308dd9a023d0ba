"""Report filters the lake query does not cover: account, region, framework and since.

Applied to loaded findings, after `FindingFilter` (severity, pillar, status, check, resource)
has narrowed them in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from opencwpp.core.errors import UsageError
from opencwpp.core.models import Finding
from opencwpp.report.model import ReportData

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True, slots=True)
class ExtraFilter:
    """Empty fields match everything; `since` keeps findings last seen at or after it."""

    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    since: datetime | None = None

    def matches(self, finding: Finding) -> bool:
        """Whether `finding` passes every filter."""
        res = finding.resource
        if self.accounts and res.account_id not in self.accounts:
            return False
        if self.regions and res.region not in self.regions:
            return False
        if self.frameworks and not set(self.frameworks) & set(finding.compliance):
            return False
        if self.since is not None:
            seen = finding.last_seen or finding.first_seen
            if seen is None:
                return False
            seen = seen if seen.tzinfo else seen.replace(tzinfo=UTC)
            return seen >= self.since
        return True


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """`7d`, `12h`, `30m`, `2w` (ago) or an ISO date/time (UTC when naive)."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    unit = _UNITS.get(value[-1:].lower())
    if unit and value[:-1].isdigit():
        return now - timedelta(**{unit: int(value[:-1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"invalid --since {value!r}: use 7d, 12h, 30m, 2w or an ISO date (2025-01-31)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def apply(data: ReportData, extra: ExtraFilter) -> ReportData:
    """`data` with only the findings `extra` keeps (lifecycle, diff and alert events to match)."""
    if extra == ExtraFilter():
        return data
    kept = [f for f in data.findings if extra.matches(f)]
    ids = {f.id for f in kept}
    return replace(
        data,
        findings=kept,
        lifecycle={k: v for k, v in data.lifecycle.items() if k in ids},
        changes=data.changes.only(ids) if data.changes else None,
        alert_events={k: v for k, v in data.alert_events.items() if k in ids},
    )
