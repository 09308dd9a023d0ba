"""`cwpp iam …`: the IAM policy evaluator from the command line (mount as `iam`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table as RichTable

from opencwpp.cli.common import console, escape
from opencwpp.core.errors import UsageError
from opencwpp.iam.cases import load_case_file, run_case

app = typer.Typer(help="AWS IAM: evaluate policies, simulate requests.", no_args_is_help=True)


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
