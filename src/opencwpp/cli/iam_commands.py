"""`cwpp iam …`: the IAM engine from the command line (mounted as `iam`).

simulate (policy cases), paths (privilege escalation), who-can / can (effective access),
effective (recompute the effective-access table), exposure (public and cross-account access).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
from rich.table import Table as RichTable

from opencwpp.cli import common
from opencwpp.cli.common import console, err_console, escape
from opencwpp.core.errors import UsageError
from opencwpp.iam.access import Access, statement_refs
from opencwpp.iam.azure_blob import Grant, who_can_azure
from opencwpp.iam.azure_blob_findings import run_blob_readers
from opencwpp.iam.cases import load_case_file, run_case
from opencwpp.iam.effective import AccessRow, compute, save, who_can, who_can_stored
from opencwpp.iam.estate import Estate, Principal
from opencwpp.iam.exposure_findings import run_exposure
from opencwpp.iam.lake_policies import load_estate, scp_levels
from opencwpp.iam.privesc import ADMIN, TECHNIQUES, load_techniques, run_privesc
from opencwpp.iam.privesc.findings import step_view
from opencwpp.lake import Lake

app = typer.Typer(
    help="AWS IAM: simulate, effective access, escalation paths, exposure.", no_args_is_help=True
)


@app.callback()
def _iam() -> None:
    """AWS IAM: evaluate policies, simulate requests."""


@app.command("simulate")
def simulate_command(
    file: Path = typer.Argument(..., help="A JSON simulation case, or a JSON list of them."),
    output_format: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Decide each case's request (Allow / ImplicitDeny / ExplicitDeny) and say why.

    Exits 1 when a case carries an `expect` that differs from the decision.
    """
    if output_format not in ("table", "json"):
        raise UsageError(f"unknown output format {output_format!r}: use table or json")
    cases, many = load_case_file(file)
    results = [(case, run_case(case)) for case in cases]
    mismatches = [c.name for c, d in results if c.expect is not None and c.expect != d.kind]
    if output_format == "json":
        out = []
        for case, decision in results:
            item = {"name": case.name, **decision.to_dict()}
            if case.expect is not None:
                item["expect"] = case.expect.value
            out.append(item)
        sys.stdout.write(json.dumps(out if many else out[0], indent=2))
        sys.stdout.write("\n")
    else:
        table = RichTable(show_lines=True)
        for column in ("case", "decision", "expected", "why"):
            table.add_column(column)
        for case, decision in results:
            colour = "green" if decision.allowed else "red"
            expected = "" if case.expect is None else case.expect.value
            if case.expect is not None and case.expect != decision.kind:
                expected = f"[bold yellow]{expected} ≠[/]"
            why = "\n".join(escape(r) for r in decision.reasons)
            table.add_row(escape(case.name), f"[{colour}]{decision.kind.value}[/]", expected, why)
        console.print(table)
    if mismatches:
        names = ", ".join(mismatches)
        console.print(f"[bold red]{len(mismatches)} case(s) differ from expect:[/] {escape(names)}")
        raise typer.Exit(1)


# -- analyses over the lake --------------------------------------------------------------------

LakeOpt = common.LakeOption
ScpOpt = typer.Option(
    None,
    "--scp",
    help="JSON file of SCP levels for every account, instead of the collected Organization's.",
)
FormatOpt = typer.Option("table", "--format", "-f", help="table or json.")


def _format(value: str) -> str:
    if value not in ("table", "json"):
        raise UsageError(f"unknown output format {value!r}: use table or json")
    return value


def _scp(path: Path | None) -> list[list[Mapping[str, Any]]] | None:
    if path is None:
        return None
    try:
        return scp_levels(json.loads(path.read_text(encoding="utf-8")))
    except OSError as err:
        raise UsageError(f"{path}: cannot read: {err.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as err:
        raise UsageError(f"{path}: {err}") from None


def _estate(lake: Lake, scp: Path | None) -> Estate:
    estate = load_estate(lake, _scp(scp))
    if not estate.principals and not estate.resources:
        err_console.print("[yellow]warning:[/] no IAM inventory in the lake: run `cwpp sync aws`")
    return estate


def _principal(estate: Estate, text: str) -> Principal:
    found = estate.principals.get(text) or next(
        (p for p in estate.principals.values() if p.name == text), None
    )
    if found is None:
        raise UsageError(f"no user or role {text!r} in the lake (give its ARN or name)")
    return found


def _json_out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _statements(refs: list[dict[str, Any]]) -> str:
    return "\n".join(
        escape(
            f"{r['effect']} {r['policy']} #{r['statement']}"
            + (f" ({r['sid']})" if r["sid"] else "")
        )
        for r in refs
    )


@app.command("paths")
def paths_command(
    ctx: typer.Context,
    principal: str | None = typer.Argument(None, help="Only this user or role (ARN or name)."),
    lake: str | None = LakeOpt,
    scp: Path | None = ScpOpt,
    techniques: Path | None = typer.Option(
        None, "--techniques", help="A technique catalog file to use instead of ours."
    ),
    output_format: str = FormatOpt,
) -> None:
    """Privilege-escalation paths to admin (shortest, per principal); stores the findings."""
    _format(output_format)
    chosen = list(TECHNIQUES)
    if techniques is not None:
        chosen, skipped = load_techniques(techniques)
        for line in skipped:
            err_console.print(f"[yellow]skipped technique[/] {escape(line)}")
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        estate = _estate(opened, scp)
        only = _principal(estate, principal).arn if principal else None
        result, counts = run_privesc(opened, estate, chosen)
    paths = {k: v for k, v in result.paths.items() if only is None or k == only}
    if output_format == "json":
        _json_out({src: [step_view(e) for e in path] for src, path in sorted(paths.items())})
        return
    table = RichTable(show_lines=True, title="Paths to admin")
    for column in ("principal", "step", "technique", "becomes", "allowed by"):
        table.add_column(column)
    for source, path in sorted(paths.items()):
        for n, edge in enumerate(path, 1):
            refs = [r for s in edge.steps for r in s["statements"]]
            target = "admin (own permissions)" if edge.target == ADMIN else edge.target
            table.add_row(
                escape(source) if n == 1 else "",
                str(n),
                escape(f"{edge.technique.id}: {edge.technique.title}"),
                escape(target),
                _statements(list({json.dumps(r, sort_keys=True): r for r in refs}.values())),
            )
    console.print(table)
    console.print(
        f"{len(paths)} principal(s) can become admin; findings: "
        + ", ".join(f"{k.lower()} {v}" for k, v in counts.items())
    )


def _access_table(rows: list[AccessRow], title: str) -> None:
    table = RichTable(show_lines=True, title=title)
    for column in ("principal", "decision", "statements"):
        table.add_column(column)
    for row in rows:
        colour = "green" if row.decision == "Allow" else "red"
        table.add_row(
            escape(row.principal_arn), f"[{colour}]{row.decision}[/]", _statements(row.via)
        )
    console.print(table)


@app.command("who-can")
def who_can_command(
    ctx: typer.Context,
    action: str = typer.Argument(..., help="e.g. s3:GetObject"),
    resource: str = typer.Argument(..., help="A resource ARN (or * for account-wide actions)."),
    lake: str | None = LakeOpt,
    scp: Path | None = ScpOpt,
    output_format: str = FormatOpt,
) -> None:
    """Who may do ACTION on RESOURCE, with the deciding statements.

    An Azure storage account (or container) id as RESOURCE answers from the role assignments,
    account keys and anonymous access, e.g. ACTION
    Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read.
    """
    _format(output_format)
    cfg = common.settings(ctx, lake=lake)
    if resource.lower().startswith("/subscriptions/"):
        _who_can_azure(cfg.lake, action, resource, output_format)
        return
    with common.open_lake(cfg.lake) as opened:
        rows = who_can_stored(opened, action, resource)
        source = "from cwpp_iam_effective_access"
        if not rows:
            rows = who_can(_estate(opened, scp), action, resource)
            source = "evaluated now"
    if output_format == "json":
        _json_out([r.to_row() for r in rows])
        return
    _access_table(rows, f"who can {action} on {resource} ({source})")


def _who_can_azure(lake_url: str, action: str, resource: str, output_format: str) -> None:
    with common.open_lake(lake_url) as opened:
        try:
            grants, warnings = who_can_azure(opened, action, resource)
        except LookupError:
            raise UsageError(
                f"no Azure storage account or container {resource!r} in the lake "
                "(run `cwpp sync azure`)"
            ) from None
    for line in warnings:
        err_console.print(f"[yellow]warning:[/] {escape(line)}")
    if output_format == "json":
        _json_out([g.to_row() for g in grants])
        return
    _azure_table(grants, f"who can {action} on {resource}")


def _azure_table(grants: list[Grant], title: str) -> None:
    table = RichTable(show_lines=True, title=escape(title))
    for column in ("principal", "type", "via", "role", "scope"):
        table.add_column(column)
    for g in grants:
        container = f"(container {g.container})" if g.container else ""
        scope = " ".join(part for part in (g.scope, container) if part)
        if g.condition:
            scope += f"\nif {g.condition}"
        table.add_row(
            escape(g.principal_id), escape(g.principal_type), g.via, escape(g.role), escape(scope)
        )
    console.print(table)
    console.print(f"{len(grants)} grant(s)")


@app.command("azure-blob-readers")
def azure_blob_readers_command(
    ctx: typer.Context, lake: str | None = LakeOpt, output_format: str = FormatOpt
) -> None:
    """Azure: who can read blob data in each storage account; stores the findings."""
    _format(output_format)
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        found, _, warnings = run_blob_readers(opened)
    for line in warnings:
        err_console.print(f"[yellow]warning:[/] {escape(line)}")
    if output_format == "json":
        _json_out(
            [
                {"resource": f.resource.uid, "status": f.status.value, "title": f.title}
                | {"reason": f.status_reason, **f.evidence}
                for f in found
            ]
        )
        return
    table = RichTable(show_lines=True, title="Azure blob data readers")
    for column in ("status", "severity", "storage account", "why"):
        table.add_column(column)
    for f in found:
        colour = "red" if f.status.value == "FAIL" else "green"
        table.add_row(
            f"[{colour}]{f.status.value}[/]",
            f.severity.value,
            escape(f.resource.uid),
            escape(f.status_reason),
        )
    console.print(table)
    console.print(f"{len(found)} storage account(s) judged")


@app.command("can")
def can_command(
    ctx: typer.Context,
    principal: str = typer.Argument(..., help="A user or role (ARN or name)."),
    action: str = typer.Argument(...),
    resource: str = typer.Argument(...),
    lake: str | None = LakeOpt,
    scp: Path | None = ScpOpt,
    output_format: str = FormatOpt,
) -> None:
    """Whether PRINCIPAL may do ACTION on RESOURCE, why, and the deciding statements."""
    _format(output_format)
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        estate = _estate(opened, scp)
    who = _principal(estate, principal)
    policy = estate.policy_for(resource)
    decision = Access(estate).decide(
        who, action, resource, resource_policy=(policy.arn, policy.document) if policy else None
    )
    refs = statement_refs(who, decision)
    if output_format == "json":
        _json_out(
            {"decision": decision.kind.value, "reasons": list(decision.reasons), "statements": refs}
        )
    else:
        colour = "green" if decision.allowed else "red"
        console.print(f"[{colour}]{decision.kind.value}[/]: {escape('; '.join(decision.reasons))}")
        if refs:
            console.print(_statements(refs))
    if not decision.allowed:
        raise typer.Exit(1)


@app.command("effective")
def effective_command(
    ctx: typer.Context, lake: str | None = LakeOpt, scp: Path | None = ScpOpt
) -> None:
    """Recompute the effective-access table (cwpp_iam_effective_access) from the lake."""
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        count = save(opened, compute(_estate(opened, scp)))
    console.print(f"{count} effective-access row(s) in cwpp_iam_effective_access")


@app.command("exposure")
def exposure_command(
    ctx: typer.Context,
    lake: str | None = LakeOpt,
    org_account: list[str] = typer.Option(
        [], "--org-account", help="An account of the Organization."
    ),
    output_format: str = FormatOpt,
) -> None:
    """Public and cross-account access by resource and trust policies; stores the findings."""
    _format(output_format)
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        found, _ = run_exposure(opened, _estate(opened, None), cfg.trusted_accounts, org_account)
    if output_format == "json":
        _json_out(
            [
                {"check": f.check_id, "resource": f.resource.uid, "title": f.title, **f.evidence}
                for f in found
            ]
        )
        return
    table = RichTable(show_lines=True, title="Exposure")
    for column in ("severity", "resource", "who can do what"):
        table.add_column(column)
    for f in found:
        table.add_row(f.severity.value, escape(f.resource.uid), escape(f.status_reason))
    console.print(table)
    console.print(f"{len(found)} exposure finding(s)")
