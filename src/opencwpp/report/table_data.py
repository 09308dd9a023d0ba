"""The findings table's data for the HTML report and the dashboard: compact JSON, safe to embed.

Repeated strings (check ids, titles, accounts, regions, types) are stored once and referenced by
index, which keeps 50,000 findings to a few MB. `embed_json` escapes `<`, `>`, `&` and the line
separators so the text can never close its `<script type="application/json">` element.
"""

from __future__ import annotations

import json
from typing import Any

from opencwpp.core.models import Finding, Severity, Status
from opencwpp.report import text
from opencwpp.report.model import ReportData, sort_findings

DETAIL_LIMIT = 240
_STATUS_INDEX = {Status.FAIL: 0, Status.PASS: 1, Status.MUTED: 2, Status.NOT_ASSESSED: 3}
_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
_RANK = {s: s.rank for s in Severity}


class _Strings:
    def __init__(self) -> None:
        self.values: list[str] = [""]
        self.index: dict[str, int] = {"": 0}
        self.raw: dict[str, int] = {"": 0}

    def __call__(self, raw: str) -> int:
        """The index of `raw`, cleaned of control characters, added on first sight."""
        found = self.raw.get(raw)
        if found is None:
            value = text.clean(raw)
            found = self.index.get(value)
            if found is None:
                found = self.index[value] = len(self.values)
                self.values.append(value)
            self.raw[raw] = found
        return found


def _tags(finding: Finding) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(finding.resource.tags.items()))


def table_rows(data: ReportData) -> dict[str, Any]:
    """`{"strings": [...], "rows": [[...], ...]}`, one row per finding in report order.

    Row layout: severity rank, status index, then string indexes for pillar, check, title, the
    uid and name as text, string indexes for account, region, type, the tags and detail as
    text, and the lifecycle's string index.
    """
    s = _Strings()
    rows: list[list[Any]] = []
    for f in sort_findings(data.findings):
        res = f.resource
        rows.append(
            [
                _RANK[f.severity],
                _STATUS_INDEX[f.status],
                s(f.pillar.value),
                s(f.check_id),
                s(f.title),
                text.clean(res.uid),
                text.clean(res.name),
                s(res.account_id),
                s(res.region),
                s(res.type),
                text.truncate(text.clean(_tags(f)), DETAIL_LIMIT) if res.tags else "",
                text.truncate(text.clean(f.status_reason), DETAIL_LIMIT) if f.status_reason else "",
                s(data.lifecycle.get(f.id, "")),
            ]
        )
    return {"strings": s.values, "rows": rows}


def embed_json(value: object) -> str:
    """JSON text safe inside an HTML `<script type="application/json">` element."""
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _ESCAPES:
        raw = raw.replace(char, escaped)
    return raw
