"""HTML report: one self-contained file (inline CSS, SVG and one script; no network).

Jinja2 autoescapes every value; the findings table's data is a JSON block escaped by
`table_data.embed_json`. The Content-Security-Policy allows only the report's own stylesheet and
script (pinned by hash), so even a missed escape could not run a script or load anything.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from opencwpp.core.models import Finding, Severity
from opencwpp.report import text
from opencwpp.report.compliance import compliance_scores
from opencwpp.report.formats import Format
from opencwpp.report.model import (
    PILLAR_LABELS,
    CheckGroup,
    ReportData,
    failing,
    failing_by_pillar,
    failing_by_severity,
    group_by_check,
    iso_utc,
    lifecycle_counts,
    severities_desc,
    severity_matrix,
    status_counts,
    top_failing_checks,
)
from opencwpp.report.svg import Bar, bar_chart, trend_chart
from opencwpp.report.table_data import embed_json, table_rows

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
SCRIPT = "report.js"
MAX_ROWS_PER_CHECK = 50  # the full list is in the findings table
TREND_RUNS = 12
TOP_CHANGES = 10


@lru_cache(maxsize=2)
def _asset(name: str) -> str:
    return (files("opencwpp.report") / "templates" / name).read_text(encoding="utf-8")


def _stylesheet() -> str:
    return _asset(STYLESHEET)


def _script() -> str:
    return _asset(SCRIPT)


def sha256_source(source: str) -> str:
    """A CSP hash source (`'sha256-…'`) for an inline element's exact text."""
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def content_security_policy(css: str, script: str | None = None) -> str:
    """The page's CSP: nothing loads or runs except the inline stylesheet and script hashed here."""
    scripts = f"script-src {sha256_source(script)}; " if script is not None else ""
    return (
        "default-src 'none'; "
        f"style-src {sha256_source(css)}; "
        f"{scripts}"
        "img-src data:; "
        "base-uri 'none'; "
        "form-action 'none'"
    )


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("opencwpp.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clean"] = text.clean
    return env.get_template(TEMPLATE)


def _per_check(
    groups: list[CheckGroup],
) -> tuple[dict[str, str], dict[str, list[str]], dict[str, list[str]]]:
    """Remediation, compliance references and ATT&CK techniques of each check."""
    remediation: dict[str, str] = {}
    compliance: dict[str, list[str]] = {}
    mitre: dict[str, list[str]] = {}
    for g in groups:
        remediation[g.check_id] = next((f.remediation for f in g.findings if f.remediation), "")
        compliance[g.check_id] = sorted(
            {f"{fw} {req}" for f in g.findings for fw, reqs in f.compliance.items() for req in reqs}
        )
        mitre[g.check_id] = sorted({t for f in g.findings for t in f.mitre_attack})
    return remediation, compliance, mitre


def _charts(findings: list[Finding]) -> tuple[Markup, Markup]:
    by_sev = [
        Bar(s.value.capitalize(), n, f"sev-{s.value}")
        for s, n in failing_by_severity(findings).items()
    ]
    by_pillar = [Bar(PILLAR_LABELS[p], n, "pillar") for p, n in failing_by_pillar(findings).items()]
    return (
        bar_chart("Failing findings by severity", by_sev),
        bar_chart("Failing findings by pillar", by_pillar),
    )


def _trend(data: ReportData) -> Markup | None:
    points = data.trend[-TREND_RUNS:]
    if len(points) < 2:
        return None
    columns = [
        (
            f"{p.at:%m-%d %H:%M}",
            [Bar(s.value, p.failing.get(s.value, 0), f"sev-{s.value}") for s in Severity],
        )
        for p in points
    ]
    return trend_chart("Failing findings per assess run", columns)


def render(data: ReportData) -> str:
    """Renders the report as one HTML document."""
    findings = data.findings
    css, script = _stylesheet(), _script()
    groups = group_by_check(findings)
    remediation, compliance, mitre = _per_check(groups)
    severity_chart, pillar_chart = _charts(findings)
    by_sev = failing_by_severity(findings)
    matrix = [
        (
            PILLAR_LABELS[pillar],
            [(s, row[s]) for s in severities_desc()],
            sum(row.values()),
        )
        for pillar, row in severity_matrix(findings).items()
    ]
    return _template().render(
        csp=content_security_policy(css, script),
        css=Markup(css),  # noqa: S704 - our own packaged stylesheet, pinned by the CSP hash
        script=Markup(script),  # noqa: S704 - our own packaged script, pinned by the CSP hash
        table_json=Markup(embed_json(table_rows(data))),  # noqa: S704 - escaped by embed_json
        max_rows=MAX_ROWS_PER_CHECK,
        changes=data.changes,
        top_changes=TOP_CHANGES,
        trend_chart=_trend(data),
        frameworks=compliance_scores(findings),
        generated_at=iso_utc(data.generated_at),
        lake=data.lake_url,
        run_id=data.run_id,
        total=len(findings),
        failing_total=len(failing(findings)),
        failing_by_severity=list(by_sev.items()),
        statuses=list(status_counts(findings).items()),
        lifecycle_counts=list(lifecycle_counts(data).items()),
        severities=severities_desc(),
        matrix=matrix,
        severity_chart=severity_chart,
        pillar_chart=pillar_chart,
        top_checks=top_failing_checks(findings),
        groups=groups,
        remediations=remediation,
        compliance=compliance,
        mitre_attack=mitre,
        pillar_labels=PILLAR_LABELS,
        lifecycle=data.lifecycle,
    )


FORMAT = Format(name="html", extension="html", media_type="text/html", render=render)
