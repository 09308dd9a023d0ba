"""`cwpp sync azure`, `cwpp scan azure`, `cwpp permissions azure`, `cwpp detect ingest-azure`.

Functions the CLI registers on the existing `sync`, `scan` and `permissions` groups. They only
parse, call the collector and the assessment, and print. The Azure Activity Log commands
register themselves on the `detect` group at the end of this module.
"""

from __future__ import annotations

import json
from collections import defaultdict

import typer
from rich.table import Table

from opencwpp.assess import assess, failures_at_or_above, select_checks
from opencwpp.checks import provider_checks
from opencwpp.cli import common
from opencwpp.cli.aws import sync_progress
from opencwpp.cli.common import console, err_console
from opencwpp.collect.azure.base import graph_permissions, least_privilege_role
from opencwpp.collect.azure.context import AzureContext, parse_subscription_ids
from opencwpp.collect.azure.sync import sync_azure
from opencwpp.collect.sync import SyncFailed, SyncReport
from opencwpp.core.errors import UsageError
from opencwpp.detect.azure.engine import AzureDetectResult, detect_azure
from opencwpp.detect.azure.ingest import FileResult, ingest_paths
from opencwpp.detect.ingest import DEFAULT_MAX_FILE_BYTES
from opencwpp.lake import Lake, redact_url
from opencwpp.report import console as report_console
from opencwpp.report.build import report_data

SubscriptionsOption = typer.Option(
    None,
    "--subscriptions",
    help="Comma-separated subscription ids (default: every subscription the credential sees).",
)


def print_azure_problems(report: SyncReport) -> None:
    """What was not assessed or failed, grouped by subscription, then status and reason."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for outcome in [*report.not_assessed, *report.failed]:
        label = "failed" if outcome in report.failed else "not assessed"
        groups[(outcome.account_id, label, outcome.reason)].append(outcome.resource)
    for (subscription, label, reason), units in sorted(groups.items()):
        colour = "red" if label == "failed" else "yellow"
        err_console.print(
            f"[{colour}]{label}:[/] subscription {common.escape(subscription)}: "
            f"{common.escape(reason)}: {common.escape(', '.join(sorted(units)))}"
        )


def run_azure_sync(lake: Lake, subscriptions: list[str]) -> SyncReport:
    """Syncs the chosen (or every visible) subscription with a progress bar; prints problems.

    Raises SyncFailed (after printing the summary) when a unit failed, CredentialsError when no
    credential works and UsageError for unknown or invisible subscriptions.
    """
    wanted = parse_subscription_ids(subscriptions)
    context = AzureContext.create()
    targets = context.subscriptions(wanted)
    if not targets:
        raise UsageError("no Azure subscription is visible to these credentials")
    try:
        with sync_progress() as progress:
            report = sync_azure(lake, targets, progress=progress)
    except SyncFailed as failed:
        print_azure_problems(failed.report)
        raise
    console.print(
        f"synced {len(report.accounts)} Azure subscription(s) "
        f"[bold]{common.escape(', '.join(report.accounts))}[/]: "
        f"{report.rows_written} rows into {redact_url(lake.url)}"
    )
    print_azure_problems(report)
    return report


def azure_check_ids() -> list[str]:
    """The ids of the built-in Azure checks."""
    return [c.id for c in provider_checks("azure")]


def sync_azure_command(
    ctx: typer.Context,
    subscriptions: list[str] | None = SubscriptionsOption,
    lake: str | None = common.LakeOption,
) -> None:
    """Collect Azure subscriptions into the lake (read-only calls); non-zero exit on failures."""
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        run_azure_sync(opened, common.split_csv(subscriptions))


def scan_azure_command(
    ctx: typer.Context,
    subscriptions: list[str] | None = SubscriptionsOption,
    lake: str | None = common.LakeOption,
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 when a FAIL at or above this severity exists."
    ),
    mutelist: str | None = typer.Option(None, "--mutelist", help="Mutelist YAML file."),
) -> None:
    """Collect Azure subscriptions, run the Azure checks, print a summary."""
    cfg = common.settings(ctx, lake=lake, mutelist=mutelist, fail_on=common.parse_severity(fail_on))
    sync_failure: SyncFailed | None = None
    with common.open_lake(cfg.lake) as opened:
        try:
            run_azure_sync(opened, common.split_csv(subscriptions))
        except SyncFailed as failed:
            sync_failure = failed  # assess what was collected, then report the failure
        result = assess(opened, select_checks(azure_check_ids()), common.mutelist_of(cfg))
        console.print(report_console.summary_panel(report_data(opened, run_id=result.run_id)))
    if sync_failure is not None:
        raise sync_failure
    if cfg.fail_on is not None:
        failing = failures_at_or_above(result.findings, cfg.fail_on)
        if failing:
            err_console.print(f"{failing} failing finding(s) at or above {cfg.fail_on.value}")
            raise typer.Exit(1)


def permissions_azure_command() -> None:
    """Print the custom role (JSON) the Azure collector needs: read actions only."""
    typer.echo(json.dumps(least_privilege_role(), indent=2))
    # Directory reads are not RBAC actions: stderr, so that stdout stays a role definition.
    err_console.print(
        "Microsoft Graph application permissions (admin consent; Azure RBAC cannot grant "
        f"them): {common.escape(', '.join(graph_permissions()))}"
    )


def _print_azure_ingest(results: list[FileResult]) -> None:
    for r in results:
        rejected = ", ".join(f"{n} {common.escape(k)}" for k, n in sorted(r.rejected.items()))
        line = f"{common.escape(r.path)}: {r.read} read, {r.inserted} new"
        line += f", {r.duplicates} duplicate" if r.duplicates else ""
        line += f", rejected: {rejected}" if rejected else ""
        line += f" [red]{common.escape(r.error)}[/]" if r.error else ""
        console.print(line)
    console.print(
        f"{len(results)} file(s): {sum(r.read for r in results)} read, "
        f"{sum(r.inserted for r in results)} new record(s), "
        f"{sum(sum(r.rejected.values()) for r in results)} rejected, "
        f"{sum(1 for r in results if r.error)} unreadable"
    )


def _print_azure_alerts(result: AzureDetectResult) -> None:
    table = Table("severity", "detection", "caller", "records", "last record")
    for f in sorted(result.findings, key=lambda f: (-f.severity.rank, f.check_id)):
        table.add_row(
            f.severity.value,
            common.escape(f.title),
            common.escape(f.resource.uid),
            str(f.evidence.get("event_count", "")),
            str(f.evidence.get("last_event_time") or "").replace("T", " "),
        )
    console.print(table)
    console.print(f"{len(result.findings)} Azure alert(s); {result.matched} record(s) matched")


def ingest_azure_command(
    ctx: typer.Context,
    paths: list[str] = typer.Argument(
        ..., help="Activity Log export files (PT1H.json, JSON Lines) or folders of them."
    ),
    lake: str | None = common.LakeOption,
    run_detections: bool = typer.Option(
        True, "--detect/--no-detect", help="Run the Azure detections after ingesting."
    ),
    max_file_bytes: int = typer.Option(
        DEFAULT_MAX_FILE_BYTES, "--max-file-bytes", help="Larger files are not read, and reported."
    ),
) -> None:
    """Load Azure Activity Log (and Key Vault audit) exports into the lake, then detect."""
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        results = ingest_paths(opened, paths, max_file_bytes)
        _print_azure_ingest(results)
        if run_detections:
            _print_azure_alerts(detect_azure(opened))
    if any(r.error for r in results):
        raise typer.Exit(1)


def run_azure_command(ctx: typer.Context, lake: str | None = common.LakeOption) -> None:
    """Run the Azure detections over the ingested Activity Log; alerts become findings."""
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        _print_azure_alerts(detect_azure(opened))
