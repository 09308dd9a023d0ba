"""Lambda runtime end of life from `cwpp_eol` (product `aws-lambda`, cycle = runtime id).

The posture check `lambda_function_runtime_supported` already turns a deprecated runtime into
a finding; here the same dates only explain a vulnerability finding's priority (a fix may
need a runtime move, and the runtime itself gets no more patches).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from opencwpp.lake.lake import Lake

PRODUCT = "aws-lambda"


@dataclass(frozen=True, slots=True)
class RuntimeEol:
    """The deprecation of one runtime: its date (AWS's end of standard support), or a flag."""

    runtime: str
    label: str
    deprecated_on: date | None
    flagged: bool

    def past(self, today: date) -> bool:
        """Whether the runtime is deprecated on `today`."""
        if self.deprecated_on is not None:
            return self.deprecated_on <= today
        return self.flagged

    def reason(self) -> str:
        """The priority reason naming the runtime and since when it is deprecated."""
        since = f" since {self.deprecated_on.isoformat()}" if self.deprecated_on else ""
        return f"runtime {self.runtime} ({self.label}) past end of life{since}: no runtime patches"


def eol_date(value: Any) -> date | None:
    """An endoflife.date day (`2025-06-30`); None for `true`/`false`, absent or malformed values."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def load_runtime_eol(lake: Lake) -> dict[str, RuntimeEol]:
    """Every `aws-lambda` cycle of the loaded end-of-life data, by runtime id."""
    if not lake.table_exists("cwpp_eol"):
        return {}
    rows = lake.query("SELECT cycle, eol, release FROM cwpp_eol WHERE product = ?", [PRODUCT])
    out: dict[str, RuntimeEol] = {}
    for row in rows:
        release = row["release"]
        if isinstance(release, str):
            release = json.loads(release)
        release = release if isinstance(release, dict) else {}
        eol = row["eol"]
        # Same rule as the posture check: the deprecation date (eoas), else the eol date.
        when = eol_date(release.get("eoas")) or eol_date(eol)
        label = str(release.get("releaseLabel") or row["cycle"])
        out[row["cycle"]] = RuntimeEol(row["cycle"], label, when, str(eol).lower() == "true")
    return out
