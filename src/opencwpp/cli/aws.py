"""`cwpp sync aws` and `cwpp scan aws`: collect AWS accounts into the lake (and assess them)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from opencwpp.assess import assess, failures_at_or_above
from opencwpp.checks import provider_checks
from opencwpp.cli import common
from opencwpp.cli.common import console, err_console
from opencwpp.collect.accounts import (
    check_role_options,
    org_account_ids,
    parse_account_ids,
    sync_accounts,
)
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import least_privilege_policy
from opencwpp.collect.sync import SyncFailed, SyncReport, sync_aws
from opencwpp.core.errors import UsageError
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


AccountsOption = typer.Option(
    None, "--accounts", help="Comma-separated account ids to sync through --org-role."
)
OrgOption = typer.Option(
    False, "--org", help="Sync every ACTIVE account of the AWS Organization (needs --org-role)."
)
OrgRoleOption = typer.Option(
    None, "--org-role", help="Role NAME assumed in each account (arn:aws:iam::<id>:role/NAME)."
)
ExternalIdOption = typer.Option(None, "--external-id", help="External id for the role.")


@dataclass(frozen=True)
class AccountsChoice:
    """Which accounts to sync: the caller's own (default), listed ones, or the Organization's."""

    accounts: list[str]
    org: bool = False
    role: str | None = None
    external_id: str | None = None

    @classmethod
    def parse(
        cls, accounts: list[str] | None, org: bool, role: str | None, external_id: str | None
    ) -> AccountsChoice:
        """Checks the option combination; UsageError when it makes no sense."""
        ids = parse_account_ids(common.split_csv(accounts))
        if ids and org:
            raise UsageError("--accounts and --org exclude each other")
        if (ids or org) and not role:
            raise UsageError("--accounts/--org need --org-role NAME (the role to assume)")
        if (role or external_id) and not (ids or org):
            raise UsageError("--org-role/--external-id need --accounts or --org")
        if role:
            check_role_options(role, external_id)
        return cls(ids, org, role, external_id)


def print_problems(report: SyncReport) -> None:
    """What was not assessed or failed, grouped by account, then status and reason."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for account, reason in report.account_failures.items():
        groups[(account, "account not reachable", reason)].append("every table")
    for o in [*report.not_assessed, *report.failed]:
        label = "failed" if o in report.failed else "not assessed"
        groups[(o.account_id, label, o.reason)].append(f"{o.resource} {o.region or 'global'}")
    for (account, label, reason), units in sorted(groups.items()):
        colour = "red" if label != "not assessed" else "yellow"
        err_console.print(
            f"[{colour}]{label}:[/] account {account}: {common.escape(reason)}: "
            f"{common.escape(', '.join(sorted(units)))}"
        )


def run_sync(
    lake: Lake,
    profile: str | None,
    regions: list[str],
    endpoint: str | None,
    choice: AccountsChoice | None = None,
) -> SyncReport:
    """Syncs one account (or many through a role), with a progress bar; prints what failed.

    Raises SyncFailed (after printing the summary) when an account or a unit failed.
    """
    context = AwsContext.create(profile, endpoint_url=endpoint)
    choice = choice or AccountsChoice([])
    chosen = context.validate_regions(regions) if regions else None
    try:
        with sync_progress() as progress:
            if choice.role:
                ids = org_account_ids(context) if choice.org else choice.accounts
                report = sync_accounts(
                    lake,
                    context,
                    ids,
                    choice.role,
                    external_id=choice.external_id,
                    regions=chosen,
                    progress=progress,
                )
            else:
                chosen = chosen or context.enabled_regions()
                report = sync_aws(lake, context, chosen, progress=progress)
    except SyncFailed as failed:
        print_problems(failed.report)
        raise
    accounts = ", ".join(report.accounts) or report.account_id
    console.print(
        f"synced account(s) [bold]{common.escape(accounts)}[/] in {len(report.regions)} "
        f"region(s): {report.rows_written} rows into {redact_url(lake.url)}"
    )
    print_problems(report)
    return report


@sync_app.command("aws")
def sync_aws_command(
    ctx: typer.Context,
    profile: str | None = ProfileOption,
    regions: list[str] | None = RegionsOption,
    endpoint_url: str | None = EndpointOption,
    lake: str | None = common.LakeOption,
    accounts: list[str] | None = AccountsOption,
    org: bool = OrgOption,
    org_role: str | None = OrgRoleOption,
    external_id: str | None = ExternalIdOption,
) -> None:
    """Collect AWS accounts into the lake (read-only API calls); non-zero exit if any failed."""
    choice = AccountsChoice.parse(accounts, org, org_role, external_id)
    cfg = common.settings(ctx, lake=lake, aws={"profile": profile})
    with common.open_lake(cfg.lake) as opened:
        run_sync(
            opened,
            cfg.aws.profile,
            common.split_csv(regions) or cfg.aws.regions,
            endpoint_url,
            choice,
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
    accounts: list[str] | None = AccountsOption,
    org: bool = OrgOption,
    org_role: str | None = OrgRoleOption,
    external_id: str | None = ExternalIdOption,
) -> None:
    """Collect AWS accounts, assess them, and print a summary (sync failures: exit non-zero)."""
    choice = AccountsChoice.parse(accounts, org, org_role, external_id)
    cfg = common.settings(
        ctx,
        lake=lake,
        aws={"profile": profile},
        mutelist=mutelist,
        fail_on=common.parse_severity(fail_on),
    )
    sync_failure: SyncFailed | None = None
    with common.open_lake(cfg.lake) as opened:
        try:
            run_sync(
                opened,
                cfg.aws.profile,
                common.split_csv(regions) or cfg.aws.regions,
                endpoint_url,
                choice,
            )
        except SyncFailed as failed:
            sync_failure = failed  # assess what was collected, then report the failure
        result = assess(opened, provider_checks("aws"), common.mutelist_of(cfg))
        console.print(report_console.summary_panel(report_data(opened, run_id=result.run_id)))
    if sync_failure is not None:
        raise sync_failure
    if cfg.fail_on is not None:
        failing = failures_at_or_above(result.findings, cfg.fail_on)
        if failing:
            err_console.print(f"{failing} failing finding(s) at or above {cfg.fail_on.value}")
            raise typer.Exit(1)


@permissions_app.command("aws")
def permissions_aws_command() -> None:
    """Print the least-privilege IAM policy (JSON) the AWS collector needs: reads only."""
    typer.echo(json.dumps(least_privilege_policy(), indent=2))
