"""Privilege-escalation findings: "principal X can become admin", with the shortest path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.iam.estate import Estate, Principal
from opencwpp.iam.privesc.graph import Edge, Graph
from opencwpp.iam.privesc.targets import ADMIN
from opencwpp.iam.privesc.techniques import TECHNIQUES, Technique
from opencwpp.lake import Lake

CHECK_ID = "iam_privesc_path"
ADMIN_CHECK_ID = "iam_principal_effective_admin"
ADMIN_REMEDIATION = (
    "Keep full administrative access to a few break-glass principals and grant the rest only the "
    "actions they use (IAM Access Analyzer policy generation helps); use a permissions boundary "
    "or an SCP where admin must stay but should not reach everything."
)
REMEDIATION = (
    "Remove or scope down the permissions each step uses (the statements are listed per step), "
    "add a condition, a permissions boundary or an SCP that denies them, or restrict which roles "
    "may be passed (iam:PassRole with iam:PassedToService and a role ARN, not *)."
)
_TYPES = {"user": "AwsIamUser", "role": "AwsIamRole"}


@dataclass
class PrivescResult:
    """The graph, the shortest paths, and the findings made from them."""

    graph: Graph
    paths: dict[str, list[Edge]]
    findings: list[Finding]


def step_view(edge: Edge) -> dict[str, Any]:
    """One step of a path as evidence: who becomes what, how, and the statements that allow it."""
    return {
        "from": edge.source,
        "to": edge.target,
        "technique": edge.technique.id,
        "technique_title": edge.technique.title,
        "via": edge.via,
        "note": edge.note,
        "actions": [dict(s) for s in edge.steps],
    }


def _end(path: list[Edge]) -> str:
    last = path[-1]
    if last.target == ADMIN:
        return "can rewrite its (or an assumable principal's) own permissions"
    return f"becomes {last.target}, which is admin"


def path_finding(estate: Estate, source: str, path: list[Edge]) -> Finding:
    """The finding for one principal's shortest path to admin."""
    principal = estate.principals[source]
    hops = len(path)
    title = (
        f"IAM {principal.kind} {principal.name} can become admin in {hops} "
        f"step{'s' if hops > 1 else ''} ({' → '.join(e.technique.id for e in path)})"
    )
    return Finding(
        check_id=CHECK_ID,
        title=title,
        pillar=Pillar.ACCESS,
        severity=Severity.CRITICAL if hops == 1 else Severity.HIGH,
        status=Status.FAIL,
        resource=ResourceRef(
            uid=principal.arn,
            type=_TYPES.get(principal.kind, "AwsIamPrincipal"),
            account_id=principal.account_id,
            name=principal.name,
        ),
        status_reason=f"{principal.arn} {_end(path)} via {hops} step(s)",
        evidence={"steps": hops, "path": [step_view(e) for e in path]},
        remediation=REMEDIATION,
        mitre_attack=("T1098", "T1078.004"),
    )


def admin_finding(principal: Principal, admin: bool) -> Finding:
    """Whether a principal is allowed everything (`*` on `*`, every policy that applies counted)."""
    what = f"IAM {principal.kind} {principal.name}"
    return Finding(
        check_id=ADMIN_CHECK_ID,
        title="IAM principal has full administrative access",
        pillar=Pillar.ACCESS,
        severity=Severity.MEDIUM,
        status=Status.FAIL if admin else Status.PASS,
        resource=ResourceRef(
            uid=principal.arn,
            type=_TYPES.get(principal.kind, "AwsIamPrincipal"),
            account_id=principal.account_id,
            name=principal.name,
        ),
        status_reason=(
            f"{what} is allowed every action on every resource (identity policies, boundary and "
            "SCPs evaluated together)"
            if admin
            else f"{what} is not allowed every action on every resource"
        ),
        remediation=ADMIN_REMEDIATION,
        mitre_attack=("T1078.004",),
    )


def analyse(estate: Estate, techniques: Iterable[Technique] = TECHNIQUES) -> PrivescResult:
    """Builds the graph and the findings (pure: nothing is written)."""
    graph = Graph(estate, techniques)
    graph.build()
    paths = graph.shortest_paths()
    findings = [path_finding(estate, source, path) for source, path in sorted(paths.items())]
    findings += [admin_finding(p, graph.is_admin(p)) for _, p in sorted(estate.principals.items())]
    return PrivescResult(graph, paths, findings)


def run_privesc(
    lake: Lake, estate: Estate, techniques: Sequence[Technique] = TECHNIQUES
) -> tuple[PrivescResult, dict[str, int]]:
    """Analyses the estate and stores the findings with history (a resolved path is RESOLVED)."""
    result = analyse(estate, techniques)
    run_id = start_run(lake, "iam-privesc")
    counts = save_findings(lake, run_id, result.findings, [CHECK_ID, ADMIN_CHECK_ID])
    finish_run(lake, run_id, "ok", {"findings": len(result.findings), **counts})
    return result, counts
