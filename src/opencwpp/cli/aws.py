"""`cwpp sync aws` and `cwpp scan aws`: collect an AWS account into the lake (and assess it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from opencwpp.assess import assess, failures_at_or_above, select_checks
from opencwpp.cli import common
from opencwpp.cli.common import console, err_console
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import least_privilege_policy
from opencwpp.collect.sync import SyncReport, sync_aws
from opencwpp.lake import Lake, redact_url
from opencwpp.report import console as report_console
from opencwpp.report.build import report_data

sync_app = typer.Typer(help="Collect cloud inventory into the lake.", no_args_is_help=True)
permissions_app = typer.Typer(help="What the collector may call.", no_args_is_help=True)
scan_app = typer.Typer(help="Collect, then assess (sync + assess + summary).", no_args_is_help=True)

ProfileOption = typer.Option(None, "--profile", help="AWS profile (standard credential chain).")
RegionsOption = typer.Option(
    None, "--regions", help="Comma-separated regions (default: all enabled for the account)."
)
EndpointOption = typer.Option(
    None, "--endpoint-url", help="Send every AWS call here (an emulator such as moto)."
)


@contextmanager
def sync_progress() -> Iterator[Callable[[str, str | None, int, int], None]]:
    """A Rich progress bar fed by the collector (resource and region per step)."""
    columns = (
        TextColumn("[bold]sync[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def update(resource: str, region: str | None, done: int, total: int) -> None:
            bar.update(
                task, completed=done, total=total, description=f"{resource} {region or 'global'}"
            )

        yield update


def run_sync(
    lake: Lake, profile: str | None, regions: list[str], endpoint: str | None
) -> SyncReport:
    """Syncs one AWS account, with a progress bar; prints what could not be assessed."""
    context = AwsContext.create(profile, endpoint_url=endpoint)
    chosen = context.validate_regions(regions) if regions else context.enabled_regions()
    with sync_progress() as progress:
        report = sync_aws(lake, context, chosen, progress=progress)
    console.print(
        f"synced account [bold]{report.account_id}[/] in {len(chosen)} region(s): "
        f"{report.rows_written} rows into {redact_url(lake.url)}"
    )
    for outcome in report.not_assessed:
        err_console.print(
            f"[yellow]not assessed:[/] {outcome.resource} {outcome.region or 'global'}: "
            f"{common.escape(outcome.reason)}"
        )
    return report


@sync_app.command("aws")
def sync_aws_command(
    ctx: typer.Context,
    profile: str | None = ProfileOption,
    regions: list[str] | None = RegionsOption,
    endpoint_url: str | None = EndpointOption,
    lake: str | None = common.LakeOption,
) -> None:
    """Collect an AWS account into the lake (read-only API calls)."""
    cfg = common.settings(ctx, lake=lake, aws={"profile": profile})
    with common.open_lake(cfg.lake) as opened:
        run_sync(
            opened, cfg.aws.profile, common.split_csv(regions) or cfg.aws.regions, endpoint_url
        )


@scan_app.command("aws")
def scan_aws_command(
    ctx: typer.Context,
    profile: str | None = ProfileOption,
    regions: list[str] | None = RegionsOption,
    endpoint_url: str | None = EndpointOption,
    lake: str | None = common.LakeOption,
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 when a FAIL at or above this severity exists."
    ),
    mutelist: str | None = typer.Option(None, "--mutelist", help="Mutelist YAML file."),
) -> None:
    """Collect an AWS account, assess it, and print a summary."""
    cfg = common.settings(
        ctx,
        lake=lake,
        aws={"profile": profile},
        mutelist=mutelist,
        fail_on=common.parse_severity(fail_on),
    )
    with common.open_lake(cfg.lake) as opened:
        run_sync(
            opened, cfg.aws.profile, common.split_csv(regions) or cfg.aws.regions, endpoint_url
        )
        result = assess(opened, select_checks(), common.mutelist_of(cfg))
        console.print(report_console.summary_panel(report_data(opened, run_id=result.run_id)))
    if cfg.fail_on is not None:
        failing = failures_at_or_above(result.findings, cfg.fail_on)
        if failing:
            err_console.print(f"{failing} failing finding(s) at or above {cfg.fail_on.value}")
            raise typer.Exit(1)


@permissions_app.command("aws")
def permissions_aws_command() -> None:
    """Print the least-privilege IAM policy (JSON) the AWS collector needs: reads only."""
    typer.echo(json.dumps(least_privilege_policy(), indent=2))
