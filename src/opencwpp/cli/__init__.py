"""The `cwpp` command line: parses, calls the packages, prints. No logic of its own."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from opencwpp import __version__
from opencwpp.cli import (
    aws,
    azure_commands,
    checks,
    compliance_commands,
    demo,
    detect_commands,
    findings,
    iam_commands,
    lake,
    report_commands,
    vuln_commands,
)
from opencwpp.cli.common import AppState, err_console, escape
from opencwpp.core.errors import CwppError

app = typer.Typer(
    name="cwpp",
    help="opencwpp: cloud workload protection over an infrastructure data lake.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(aws.sync_app, name="sync")
aws.sync_app.command("azure")(azure_commands.sync_azure_command)
aws.scan_app.command("azure")(azure_commands.scan_azure_command)
aws.permissions_app.command("azure")(azure_commands.permissions_azure_command)
app.add_typer(aws.scan_app, name="scan")
app.add_typer(aws.permissions_app, name="permissions")
app.add_typer(checks.checks_app, name="checks")
app.add_typer(lake.lake_app, name="lake")
app.add_typer(iam_commands.app, name="iam")
app.add_typer(vuln_commands.app, name="vuln")
app.add_typer(detect_commands.app, name="detect")
detect_commands.app.command("ingest-azure")(azure_commands.ingest_azure_command)
detect_commands.app.command("run-azure")(azure_commands.run_azure_command)
app.command("alerts")(detect_commands.alerts_command)
app.command("demo")(demo.demo_command)
app.command("assess")(findings.assess_command)
app.command("findings")(findings.findings_command)
app.command("report")(report_commands.report_command)
app.command("diff")(report_commands.diff_command)
app.command("serve")(report_commands.serve_command)
app.command("compliance")(compliance_commands.compliance_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"opencwpp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", help="Configuration file (default ./cwpp.yaml, then XDG config dir)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Cloud workload protection over an infrastructure data lake."""
    ctx.obj = AppState(config_file=config)


def main() -> None:
    """Entry point: every expected error is one clear line and an exit code, never a traceback."""
    try:
        app()
    except CwppError as err:
        err_console.print(f"[bold red]error:[/] {escape(str(err))}")
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
