"""`cwpp demo`: the whole product on an emulated AWS estate, offline, in seconds."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from opencwpp.cli import common
from opencwpp.cli.aws import sync_progress
from opencwpp.cli.common import console
from opencwpp.demo.run import DEMO_REGIONS, run_demo
from opencwpp.lake import redact_url
from opencwpp.report import console as report_console
from opencwpp.report.build import report_data


def demo_command(
    ctx: typer.Context,
    lake: str | None = common.LakeOption,
    output: Path = typer.Option(
        Path("cwpp-demo-report.html"), "--output", "-o", help="Where to write the HTML report."
    ),
) -> None:
    """Build a small AWS estate in an in-process emulator (and a small Azure one), scan, report."""
    cfg = common.settings(ctx, lake=lake)
    started = time.monotonic()
    console.print(
        "[bold]opencwpp demo[/]: an emulated AWS account (moto on 127.0.0.1) with good and "
        f"deliberately bad resources in {', '.join(DEMO_REGIONS)}"
    )
    with common.open_lake(cfg.lake) as opened, sync_progress() as progress:
        result = run_demo(opened, output.resolve(), progress)
    with common.open_lake(cfg.lake) as opened:
        console.print(
            f"synced {result.sync.rows_written} rows for account {result.sync.account_id} "
            f"into {redact_url(cfg.lake)}"
        )
        console.print(
            report_console.summary_panel(report_data(opened, run_id=result.assessment.run_id))
        )
    azure = result.azure
    console.print(
        f"Azure (demo subscription, {azure.rows} rows through the collector's transforms): "
        f"{azure.blob_failing} of {azure.blob_findings} storage account(s) with risky blob "
        f"readers, {azure.alerts} Activity Log alert(s). Next: `cwpp alerts`"
    )
    console.print(f"HTML report: [bold]{result.report_path}[/]")
    console.print(
        f"done in {time.monotonic() - started:.1f}s. Next: `cwpp findings --severity high`"
    )
