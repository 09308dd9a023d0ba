"""CSV report: one row per finding under a fixed header, safe to open in a spreadsheet.

Resource names, tags and details are attacker-controlled, so any cell a spreadsheet would read as
a formula is prefixed with `'` (OWASP CSV injection guidance). The last column, `events`, holds a
threat-detection alert's stored CloudTrail events as a JSON array (empty for other findings).
"""

from __future__ import annotations

import csv
import io
import json

from opencwpp.core.models import Finding
from opencwpp.report.formats import Format
from opencwpp.report.model import (
    AlertEvent,
    ReportData,
    alert_event_dict,
    iso_utc,
    sort_findings,
)

HEADER = (
    "id",
    "check_id",
    "title",
    "pillar",
    "severity",
    "status",
    "status_reason",
    "lifecycle",
    "resource_uid",
    "resource_type",
    "resource_name",
    "account_id",
    "region",
    "tags",
    "remediation",
    "compliance",
    "mitre_attack",
    "evidence",
    "first_seen",
    "last_seen",
    "events",
)

# A leading character that makes Excel, LibreOffice or Google Sheets evaluate a cell.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(cell: str) -> str:
    """Prefixes a cell that a spreadsheet would evaluate as a formula with a single quote."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def _row(finding: Finding, lifecycle: str, events: list[AlertEvent] | None) -> list[str]:
    res = finding.resource
    cells = [
        finding.id,
        finding.check_id,
        finding.title,
        finding.pillar.value,
        finding.severity.value,
        finding.status.value,
        finding.status_reason,
        lifecycle,
        res.uid,
        res.type,
        res.name,
        res.account_id,
        res.region,
        json.dumps(res.tags, sort_keys=True, ensure_ascii=False) if res.tags else "",
        finding.remediation,
        "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(finding.compliance.items())),
        ", ".join(finding.mitre_attack),
        json.dumps(finding.evidence, sort_keys=True, ensure_ascii=False, default=str)
        if finding.evidence
        else "",
        iso_utc(finding.first_seen) or "",
        iso_utc(finding.last_seen) or "",
        json.dumps([alert_event_dict(e) for e in events], ensure_ascii=False) if events else "",
    ]
    return [neutralise(c) for c in cells]


def render(data: ReportData) -> str:
    """Renders the header and one row per finding in the stable report order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for f in sort_findings(data.findings):
        writer.writerow(_row(f, data.lifecycle.get(f.id, ""), data.alert_events.get(f.id)))
    return out.getvalue()


FORMAT = Format(name="csv", extension="csv", media_type="text/csv", render=render)
