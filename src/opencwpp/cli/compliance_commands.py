"""`cwpp compliance [FRAMEWORK]`: the shipped frameworks, or one framework's status."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from opencwpp.cli import common
from opencwpp.cli.common import console, escape
from opencwpp.compliance import (
    FrameworkStatus,
    assess_framework,
    builtin_frameworks,
    get_framework,
)
from opencwpp.compliance.scoring import STATES
from opencwpp.core.errors import UsageError

FORMATS = ("table", "json")
_STYLE = {"PASS": "green", "FAIL": "bold red", "NOT_ASSESSED": "yellow", "MANUAL": "cyan"}


def _list_frameworks(fmt: str) -> None:
    rows = [
        {
            "id": f.id,
            "name": f.name,
            "version": f.version,
            "requirements": len(f.requirements),
            "automated": sum(1 for r in f.requirements if r.automated),
            "automated_share": round(f.automated_share, 3),
        }
        for f in builtin_frameworks()
    ]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Compliance frameworks")
    for name in ("id", "name", "version", "requirements", "automated"):
        table.add_column(name, justify="right" if name in ("requirements", "automated") else "left")
    for f in builtin_frameworks():
        automated = sum(1 for r in f.requirements if r.automated)
        share = f"{automated} ({f.automated_share:.0%})"
        table.add_row(f.id, escape(f.name), escape(f.version), str(len(f.requirements)), share)
    console.print(table)


def status_json(status: FrameworkStatus) -> dict[str, Any]:
    """A framework status as plain data (the `-f json` output)."""
    fw = status.framework
    return {
        "framework": fw.id,
        "name": fw.name,
        "version": fw.version,
        "score": None if status.score is None else round(status.score, 4),
        "counts": {state: status.count(state) for state in STATES},
        "requirements": [
            {
                "id": r.requirement.id,
                "title": r.requirement.title,
                "status": r.state,
                "manual": r.requirement.manual,
                "checks": list(r.requirement.checks),
                "passing": r.passing,
                "failing": r.failing,
                "muted": r.muted,
                "not_assessed_checks": list(r.unassessed_checks),
                "detail": r.detail,
            }
            for r in status.requirements
        ],
    }


def _print_status(status: FrameworkStatus) -> None:
    fw = status.framework
    table = Table(title=f"{escape(fw.name)} {escape(fw.version)} ({escape(fw.id)})")
    for name in ("requirement", "title", "status", "detail"):
        table.add_column(name)
    for r in status.requirements:
        style = _STYLE.get(r.state, "")
        table.add_row(
            escape(r.requirement.id),
            escape(r.requirement.title),
            f"[{style}]{r.state}[/]",
            escape(r.detail),
        )
    console.print(table)
    counts = ", ".join(f"{status.count(s)} {s}" for s in STATES)
    score = "n/a (no automated requirement assessed)"
    if status.score is not None:
        assessed = status.count("PASS") + status.count("FAIL")
        score = f"{status.score:.0%} ({status.count('PASS')}/{assessed} assessed requirements pass)"
    console.print(f"score: {score}; {counts}")


def compliance_command(
    ctx: typer.Context,
    framework: str | None = typer.Argument(None, help="Framework id (omit to list them)."),
    lake: str | None = common.LakeOption,
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """List compliance frameworks, or show one framework's per-requirement status and score."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if framework is None:
        _list_frameworks(fmt)
        return
    chosen = get_framework(framework)
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        status = assess_framework(opened, chosen)
    if fmt == "json":
        typer.echo(json.dumps(status_json(status), indent=2))
    else:
        _print_status(status)
