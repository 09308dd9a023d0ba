"""Markdown for pull-request comments: a summary table, what changed, and the top failures.

GitHub renders inline HTML and turns `@name` into a mention, so untrusted text has markdown
punctuation backslash-escaped, `<`, `>`, `&` and `@` written as entities, and is kept on one line.
"""

from __future__ import annotations

import re

from opencwpp.core.models import Status
from opencwpp.report import text
from opencwpp.report.formats import Format
from opencwpp.report.model import (
    PILLAR_LABELS,
    ReportData,
    failing,
    failing_by_pillar,
    failing_by_severity,
    iso_utc,
    lifecycle_counts,
    sort_findings,
    status_counts,
    top_failing_checks,
)

TOP_FINDINGS = 20
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "@": "&#64;"}


def md(value: str, limit: int | None = None) -> str:
    """Untrusted text as literal, single-line markdown (no markup, links, HTML or mentions)."""
    cleaned = text.clean(value).replace("\r", " ").replace("\n", " ")
    if limit is not None:
        cleaned = text.truncate(cleaned, limit)
    cleaned = _PUNCT.sub(r"\\\1", cleaned)
    return "".join(_ENTITIES.get(ch, ch) for ch in cleaned)


def _summary(data: ReportData) -> list[str]:
    by_sev = failing_by_severity(data.findings)
    lines = [
        "| " + " | ".join(s.value.capitalize() for s in by_sev) + " | Total failing |",
        "|" + "---:|" * (len(by_sev) + 1),
        "| "
        + " | ".join(str(n) for n in by_sev.values())
        + f" | **{len(failing(data.findings))}** |",
        "",
        "| Pillar | Failing |",
        "|---|---:|",
    ]
    lines += [f"| {PILLAR_LABELS[p]} | {n} |" for p, n in failing_by_pillar(data.findings).items()]
    statuses = ", ".join(
        f"{s.value.replace('_', ' ').lower()} {n}" for s, n in status_counts(data.findings).items()
    )
    lines += ["", f"{len(data.findings)} findings: {statuses}."]
    changes = lifecycle_counts(data)
    if changes:
        lines.append(
            f"Since the last run: **{changes['NEW']} new**, {changes['RESOLVED']} resolved, "
            f"{changes['OPEN']} still open."
        )
    return lines


def render(data: ReportData) -> str:
    """Renders the PR comment: summary, top failing checks, the most severe failing findings."""
    lines = ["## opencwpp security report", ""]
    lines.append(
        f"Generated {iso_utc(data.generated_at)}"
        + (f" · run {md(data.run_id)}" if data.run_id else "")
    )
    lines.append("")
    lines += _summary(data)
    top = top_failing_checks(data.findings)
    if top:
        lines += ["", "### Top failing checks", "", "| Severity | Check | Title | Failing |"]
        lines.append("|---|---|---|---:|")
        lines += [
            f"| {c.severity.value} | {md(c.check_id)} | {md(c.title, 120)} | {c.count} |"
            for c in top
        ]
    worst = [f for f in sort_findings(data.findings) if f.status is Status.FAIL][:TOP_FINDINGS]
    if worst:
        lines += ["", f"### Top {len(worst)} failing findings", ""]
        lines += ["| Severity | Check | Resource | Account | Region | Detail |"]
        lines.append("|---|---|---|---|---|---|")
        for f in worst:
            res = f.resource
            lines.append(
                f"| {f.severity.value} | {md(f.check_id)} | {md(res.name or res.uid, 80)} "
                f"| {md(res.account_id)} | {md(res.region)} | {md(f.status_reason, 120)} |"
            )
        rest = len(failing(data.findings)) - len(worst)
        if rest > 0:
            lines += ["", f"…and {rest} more failing findings."]
    elif not data.findings:
        lines += ["", "No findings."]
    return "\n".join(lines) + "\n"


FORMAT = Format(name="markdown", extension="md", media_type="text/markdown", render=render)
