"""`cwpp report` (all formats, every filter, `--send securityhub`), `cwpp diff`, `cwpp serve`."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from opencwpp.cli import common
from opencwpp.cli.common import console, err_console
from opencwpp.cli.findings import CheckOption, PillarOption, ResourceOption, SeverityOption, _filter
from opencwpp.core.errors import UsageError
from opencwpp.report.build import report_data, write_report
from opencwpp.report.diff_console import diff_summary, diff_table
from opencwpp.report.filters import ExtraFilter, apply, parse_since
from opencwpp.report.formats import console as console_format
from opencwpp.report.formats import format_names, get_format
from opencwpp.report.formats._vulns import empty_warning
from opencwpp.report.history import list_runs, load_diff

app = typer.Typer(help="Reports, run diffs and the dashboard.", no_args_is_help=True)
SEND_TARGETS = ("securityhub",)
CONSOLE = "console"  # the one format that may print to the terminal instead of a file


@app.command("report")
def report_command(
    ctx: typer.Context,
    format_name: str | None = typer.Option(
        None, "--format", "-f", help=f"One of: {', '.join(format_names())}."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (-f console without it: the terminal)."
    ),
    severity: str | None = SeverityOption,
    pillar: list[str] | None = PillarOption,
    status: list[str] | None = typer.Option(None, "--status", help="Statuses to include (all)."),
    check: list[str] | None = CheckOption,
    resource: str | None = ResourceOption,
    account: list[str] | None = typer.Option(None, "--account", help="Account ids."),
    region: list[str] | None = typer.Option(None, "--region", help="Regions."),
    framework: list[str] | None = typer.Option(None, "--framework", help="Compliance frameworks."),
    since: str | None = typer.Option(None, "--since", help="Last seen since: 7d, 12h, ISO date."),
    send: str | None = typer.Option(None, "--send", help="Also send to: securityhub."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for --send."),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url", help="AWS endpoint (tests)."),
    lake: str | None = common.LakeOption,
) -> None:
    """Write stored findings to a file in any format, and optionally send them to Security Hub."""
    if send is not None and send not in SEND_TARGETS:
        raise UsageError(f"unknown --send target {send!r}: use one of {', '.join(SEND_TARGETS)}")
    cfg = common.settings(ctx, lake=lake, output={"format": format_name})
    to_terminal = output is None and send is None and cfg.output.format == CONSOLE
    if output is None and send is None and not to_terminal:
        raise UsageError("give --output FILE, --send securityhub, or both (or -f console)")
    where = _filter(severity, pillar, status, check, resource)
    extra = ExtraFilter(
        accounts=tuple(common.split_csv(account)),
        regions=tuple(common.split_csv(region)),
        frameworks=tuple(common.split_csv(framework)),
        since=parse_since(since),
    )
    with common.open_lake(cfg.lake) as opened:
        data = apply(report_data(opened, where=where, history=True), extra)
    if to_terminal:
        console.print(console_format.renderable(data))
    if output is not None:
        fmt = get_format(cfg.output.format)
        count = write_report(data, fmt, output)
        console.print(f"wrote {count} findings as {fmt.name} to {output}")
        warning = empty_warning(fmt.name, data)
        if warning is not None:
            err_console.print(f"[yellow]warning:[/] {common.escape(warning)}")
    if send == "securityhub":
        from opencwpp.collect.aws.session import AwsContext
        from opencwpp.report.securityhub import send_to_securityhub

        context = AwsContext.create(profile, endpoint_url=endpoint_url)
        result = send_to_securityhub(data.findings, context)
        console.print(f"sent {result.sent} findings to Security Hub ({result.failed} rejected)")
        for error in result.errors[:10]:
            err_console.print(f"rejected: {common.escape(error)}")
        if result.failed:
            raise typer.Exit(1)


@app.command("diff")
def diff_command(
    ctx: typer.Context,
    run_a: str | None = typer.Argument(None, help="Earlier run id (default: second-last assess)."),
    run_b: str | None = typer.Argument(None, help="Later run id (default: last assess run)."),
    list_: bool = typer.Option(False, "--list", help="List recent runs instead."),
    limit: int = typer.Option(200, "--limit", min=1, help="Show at most this many rows."),
    lake: str | None = common.LakeOption,
) -> None:
    """New, resolved and changed findings between two runs (default: the last two assess runs)."""
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        if list_:
            for run in list_runs(opened, None):
                console.print(f"{run.run_id}  {run.kind}  {run.status}", markup=False)
            return
        diff = load_diff(opened, run_a, run_b)
    if diff.empty:
        console.print(f"no changes from {diff.run_a} to {diff.run_b}", markup=False)
        return
    console.print(diff_table(diff, limit))
    console.print(diff_summary(diff))


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback default)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    token: str | None = typer.Option(
        None, "--token", help="Required beyond loopback; env CWPP_SERVE_TOKEN."
    ),
    mutelist: str | None = typer.Option(
        None, "--mutelist", help="Mutelist YAML the mute action appends to."
    ),
    scan_aws: bool = typer.Option(
        False, "--scan-aws", help="The dashboard's Scan syncs AWS before assessing."
    ),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for --scan-aws."),
    regions: list[str] | None = typer.Option(None, "--regions", help="Regions for --scan-aws."),
    endpoint_url: str | None = typer.Option(
        None, "--endpoint-url", help="AWS endpoint for --scan-aws (an emulator such as moto)."
    ),
    no_scan: bool = typer.Option(False, "--no-scan", help="Hide the Scan page's button."),
    lake: str | None = common.LakeOption,
) -> None:
    """Serve the dashboard over the lake (its writes: mute rules and the scans started there)."""
    from opencwpp.web.app import WebConfig
    from opencwpp.web.scan import AwsScan
    from opencwpp.web.server import serve

    cfg = common.settings(ctx, lake=lake, mutelist=mutelist, aws={"profile": profile})
    token = token or os.environ.get("CWPP_SERVE_TOKEN") or None
    aws = None
    if scan_aws:
        chosen = common.split_csv(regions) or cfg.aws.regions
        aws = AwsScan(cfg.aws.profile, tuple(chosen), endpoint_url)
    config = WebConfig(
        cfg.lake,
        cfg.mutelist,
        token,
        loopback_only=token is None,
        aws_scan=aws,
        scan_enabled=not no_scan,
    )
    console.print(f"serving the dashboard on http://{host}:{port} (Ctrl-C stops)", markup=False)
    serve(config, host, port)
