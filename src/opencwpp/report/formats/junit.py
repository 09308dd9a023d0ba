"""JUnit XML for CI dashboards: one test case per check, its failing resources as the failure.

A check fails when any of its findings fails; it is skipped when none was assessed; muted and
passing findings pass. Untrusted text is cleaned of control characters (not allowed in XML 1.0)
and escaped by ElementTree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from opencwpp.core.models import Finding, Status
from opencwpp.report import text
from opencwpp.report.formats import Format
from opencwpp.report.model import ReportData, group_by_check, iso_utc

SUITE = "opencwpp"


def _line(finding: Finding) -> str:
    res = finding.resource
    where = "/".join(p for p in (res.account_id, res.region) if p)
    label = res.uid + (f" ({res.name})" if res.name and res.name != res.uid else "")
    reason = f": {finding.status_reason}" if finding.status_reason else ""
    return text.clean(f"{label} [{where}]{reason}" if where else f"{label}{reason}")


def render(data: ReportData) -> str:
    """Renders one `<testsuite>` with a `<testcase>` per check, sorted by check id."""
    groups = sorted(group_by_check(data.findings), key=lambda g: g.check_id)
    failures = sum(1 for g in groups if g.failing)
    skipped = sum(1 for g in groups if all(f.status is Status.NOT_ASSESSED for f in g.findings))
    suites = ET.Element("testsuites", name=SUITE, tests=str(len(groups)), failures=str(failures))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=SUITE,
        tests=str(len(groups)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        timestamp=iso_utc(data.generated_at) or "",
    )
    for g in groups:
        case = ET.SubElement(
            suite, "testcase", classname=f"{SUITE}.{g.pillar.value}", name=g.check_id, time="0"
        )
        failing = [f for f in g.findings if f.status is Status.FAIL]
        if failing:
            failure = ET.SubElement(
                case,
                "failure",
                message=text.clean(
                    f"{len(failing)} of {len(g.findings)} resources fail: {g.title}"
                ),
                type=g.severity.value,
            )
            failure.text = "\n".join(_line(f) for f in failing) + "\n"
        elif all(f.status is Status.NOT_ASSESSED for f in g.findings):
            reason = g.findings[0].status_reason or "not assessed"
            ET.SubElement(case, "skipped", message=text.clean(reason))
        muted = [f for f in g.findings if f.status is Status.MUTED]
        if muted:
            out = ET.SubElement(case, "system-out")
            out.text = "muted:\n" + "\n".join(_line(f) for f in muted) + "\n"
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


FORMAT = Format(name="junit", extension="xml", media_type="application/xml", render=render)
