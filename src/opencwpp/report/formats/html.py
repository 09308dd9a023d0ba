"""HTML report: one self-contained file (inline CSS and SVG, no scripts, no network).

Jinja2 autoescapes every value; a Content-Security-Policy allows only the report's own stylesheet
(pinned by hash), so even a missed escape could not run a script or load anything remotely.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from opencwpp.core.models import Finding
from opencwpp.report import text
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
from opencwpp.report.svg import Bar, bar_chart

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"


@lru_cache(maxsize=1)
def _stylesheet() -> str:
    return (files("opencwpp.report") / "templates" / STYLESHEET).read_text(encoding="utf-8")


def content_security_policy(css: str) -> str:
    """The page's CSP: nothing loads or runs except the inline stylesheet whose hash is `css`'s."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; "
        f"style-src 'sha256-{digest}'; "
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


def render(data: ReportData) -> str:
    """Renders the report as one HTML document."""
    findings = data.findings
    css = _stylesheet()
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
        csp=content_security_policy(css),
        css=Markup(css),  # noqa: S704 - our own packaged stylesheet, pinned by the CSP hash
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
