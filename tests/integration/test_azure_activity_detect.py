"""Azure Activity Log: ingestion from export files and the detections, on DuckDB and PostgreSQL.

tests/data/azure/activity holds a diagnostic setting's storage export layout (PT1H.json, JSON
Lines), a Key Vault AuditEvent export and a REST-shaped list. Each detection has a firing caller
and a near miss: a Start or Failure record, a resource-group scope, allowBlobPublicAccess false,
publicAccess None, a diagnostic setting written (not deleted), one secret read twenty times,
four different secrets, nine deletes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opencwpp.cli import app
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Pillar, Severity, Status
from opencwpp.detect.azure.engine import detect_azure
from opencwpp.detect.azure.ingest import ingest_paths
from opencwpp.detect.azure.records import REDACTED, to_row
from opencwpp.findings import load_findings
from opencwpp.lake import Lake

DATA = Path(__file__).resolve().parents[1] / "data" / "azure" / "activity"
SUB = "00000000-0000-0000-0000-000000000000"


def _alerts(lake: Lake) -> dict[str, set[str]]:
    result = detect_azure(lake)
    out: dict[str, set[str]] = {}
    for f in result.findings:
        assert f.pillar is Pillar.THREAT and f.status is Status.FAIL
        out.setdefault(f.check_id.removeprefix("stateful:azure-"), set()).add(f.resource.uid)
    return out


def test_ingest_is_idempotent_and_typed(lake: Lake) -> None:
    results = ingest_paths(lake, [str(DATA)])
    assert len(results) == 4
    assert sum(r.inserted for r in results) == 14 + 19 + 29 + 1
    assert sum(sum(r.rejected.values()) for r in results) == 1  # the line that is not JSON
    again = ingest_paths(lake, [str(DATA)])
    assert sum(r.inserted for r in again) == 0
    assert sum(r.duplicates for r in again) == 63
    row = lake.query(
        "SELECT operation_name, category, result_type, caller, caller_ip_address, resource_id, "
        "subscription_id, event_time FROM cwpp_azure_activity_events "
        "WHERE caller = 'keythief@evil.example'"
    )[0]
    assert row["operation_name"] == "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION"
    assert (row["category"], row["result_type"]) == ("Administrative", "Success")
    assert row["caller_ip_address"] == "203.0.113.7" and row["subscription_id"] == SUB
    assert str(row["event_time"]).startswith("2024-05-01 10:20:00")
    rest = lake.query(
        "SELECT record_id, operation_name, result_type, caller_ip_address "
        "FROM cwpp_azure_activity_events WHERE caller = 'rest@evil.example'"
    )[0]
    assert rest["record_id"] == "7e57da7a-0000-4000-8000-000000000001"
    assert rest["operation_name"] == "Microsoft.Insights/diagnosticSettings/delete"
    assert (rest["result_type"], rest["caller_ip_address"]) == ("Succeeded", "192.0.2.1")


def test_secrets_never_land_in_clear(lake: Lake) -> None:
    ingest_paths(lake, [str(DATA)])
    text = json.dumps(lake.query("SELECT * FROM cwpp_azure_activity_events"), default=str)
    assert "Hunter2-DoNotStore!" not in text and "TOPSECRETKEYVALUE1==" not in text
    assert REDACTED in text
    row = to_row(
        {
            "time": "2024-01-01T00:00:00Z",
            "operationName": {"value": "x/write"},
            "adminPassword": "p",
        },
        "t",
    )
    assert row["raw"]["adminPassword"] == REDACTED
    assert row["raw"]["operationName"] == {"value": "x/write"}  # not a body: kept


def test_detections_fire_and_near_misses_do_not(lake: Lake) -> None:
    ingest_paths(lake, [str(DATA)])
    alerts = _alerts(lake)
    assert alerts == {
        "role-assignment-high-scope": {"attacker@evil.example", "mgadmin@evil.example"},
        # The Start record's request body names the principal, never seen before; mgadmin's
        # record names none, so only the broad detection can speak for it.
        "role-assignment-new-principal": {"attacker@evil.example"},
        "storage-made-public": {"attacker@evil.example", "publisher@evil.example"},
        "storage-keys-listed": {"keythief@evil.example"},
        "keyvault-secret-mass-reads": {"harvester@evil.example"},
        "diagnostic-settings-deleted": {"attacker@evil.example", "rest@evil.example"},
        "mass-deletes": {"wiper@evil.example"},
    }


def test_alert_evidence_and_history(lake: Lake) -> None:
    ingest_paths(lake, [str(DATA)])
    first = detect_azure(lake)
    wiper = next(f for f in first.findings if f.resource.uid == "wiper@evil.example")
    assert wiper.severity is Severity.HIGH and wiper.mitre_attack == ("T1485",)
    assert wiper.evidence["event_count"] == 10 and len(wiper.evidence["record_ids"]) == 10
    assert wiper.resource.account_id == SUB
    assert wiper.remediation.endswith(
        "Known false positives: Tearing down a test environment (allow-list its pipeline identity)."
    )
    assert wiper.evidence["first_event_time"].startswith("2024-05-01T11:08:00")
    second = detect_azure(lake)
    assert second.lifecycle.get("new", 0) == 0 and len(second.findings) == len(first.findings)
    stored = [s for s in load_findings(lake) if s.finding.check_id.startswith("stateful:azure-")]
    assert len(stored) == len(first.findings)


def test_missing_path_is_a_usage_error(lake: Lake, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        ingest_paths(lake, [str(tmp_path / "nope")])


def test_cli_ingest_azure_then_alerts(lake_url: str) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["detect", "ingest-azure", str(DATA), "--lake", lake_url])
    assert res.exit_code == 0, res.output
    assert "63 new record(s)" in res.stdout and "1 rejected" in res.stdout
    assert "10 Azure alert(s)" in res.stdout
    res = runner.invoke(app, ["alerts", "--lake", lake_url])
    assert res.exit_code == 0 and "10 alert(s)" in res.stdout  # `cwpp alerts` lists them too
    res = runner.invoke(
        app, ["detect", "ingest-azure", str(DATA), "--no-detect", "--lake", lake_url]
    )
    assert res.exit_code == 0 and "0 new record(s)" in res.stdout


def test_odd_text_and_numbers_in_a_record_are_stored(lake: Lake, tmp_path: Path) -> None:
    """The caller writes much of a record: what a backend cannot hold must not fail the file."""
    (record,) = json.loads((DATA / "rest" / "activity-log-list.json").read_text())
    record["eventDataId"] = "odd-text-1"
    record["properties"] = {**record.get("properties", {}), "huge": "HUGE"}
    text = json.dumps([record]).replace('"caller": "', '"caller": "\\ud800\\u0000', 1)
    text = text.replace('"HUGE"', "1e999")  # no double holds it: kept as its text
    (tmp_path / "odd.json").write_text(text)
    (result,) = ingest_paths(lake, [str(tmp_path / "odd.json")])
    assert (result.error, result.inserted) == ("", 1)
    (row,) = lake.query(
        "SELECT caller, CAST(properties AS VARCHAR) AS p FROM cwpp_azure_activity_events"
    )
    nul = "\x00" if lake.dialect == "duckdb" else "\ufffd"
    assert row["caller"].startswith(f"\ufffd{nul}")
    assert json.loads(row["p"])["huge"] == "1e999"


def test_a_file_name_that_is_not_utf8_is_ingested(lake: Lake, tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/log\xff.json"
    with open(name, "wb") as handle:
        handle.write((DATA / "rest" / "activity-log-list.json").read_bytes())
    (result,) = ingest_paths(lake, [str(tmp_path)])
    assert result.path.endswith("/log\\xff.json") and result.inserted == 1
    (row,) = lake.query("SELECT source FROM cwpp_azure_activity_events")
    assert row["source"] == result.path


def test_a_file_over_the_size_limit_is_reported_not_read(lake: Lake, tmp_path: Path) -> None:
    export = (DATA / "rest" / "activity-log-list.json").read_bytes()
    (tmp_path / "a.json").write_bytes(export)
    (tmp_path / "b.json").write_bytes(export + b" " * 10_000)
    results = {Path(r.path).name: r for r in ingest_paths(lake, [str(tmp_path)], len(export))}
    assert (results["a.json"].error, results["a.json"].inserted) == ("", 1)
    assert results["b.json"].error.startswith(f"over {len(export):,} bytes")
