"""The demo: a small AWS estate in an in-process emulator, synced, assessed and reported.

Everything runs offline on loopback: a moto server, boto3 over HTTP with fake credentials, the
real collector, the real checks, a DuckDB lake. It is the product's main path with the cloud
replaced by an emulator. A small Azure subscription joins it (see `demo.azure`): its rows are
assessed in the same run, then its blob readers and Activity Log alerts are found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3

from opencwpp.assess import AssessResult, assess
from opencwpp.checks import provider_checks
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import SyncReport, sync_aws
from opencwpp.demo.azure import AzureDemoResult, load_azure_demo, loaded_checks, run_azure_demo
from opencwpp.demo.estate import EstateManifest, build_estate
from opencwpp.demo.moto_server import fake_credentials_env, moto_server
from opencwpp.lake.lake import Lake
from opencwpp.report.build import report_data, write_report
from opencwpp.report.formats import get_format

DEMO_REGIONS = ("us-east-1", "eu-west-1")
# Services moto does not emulate: syncing them would only print the emulator's complaints.
EMULATOR_LACKS = frozenset({"accessanalyzer.analyzers"})
SyncProgress = Callable[[str, str | None, int, int], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo built, synced, found and wrote."""

    estate: EstateManifest
    sync: SyncReport
    assessment: AssessResult
    report_path: Path
    azure: AzureDemoResult


def run_demo(lake: Lake, report_path: Path, progress: SyncProgress | None = None) -> DemoResult:
    """Builds the estate, syncs it into `lake`, assesses it and writes the HTML report."""
    creds = fake_credentials_env()
    with moto_server() as endpoint:
        estate = build_estate(endpoint, DEMO_REGIONS[0])
        session = boto3.Session(
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
            region_name=DEMO_REGIONS[0],
        )
        context = AwsContext(session, endpoint_url=endpoint)
        resources = [r for r in load_resources() if r.name not in EMULATOR_LACKS]
        synced = sync_aws(lake, context, list(DEMO_REGIONS), resources, progress=progress)
    azure_rows = load_azure_demo(lake)
    assessment = assess(lake, provider_checks("aws") + loaded_checks(lake))
    write_report(report_data(lake, run_id=assessment.run_id), get_format("html"), report_path)
    azure = run_azure_demo(lake, azure_rows)
    return DemoResult(estate, synced, assessment, report_path, azure)
