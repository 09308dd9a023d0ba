"""`cwpp sync azure`, `cwpp scan azure` and `cwpp permissions azure` through Typer's runner.

The commands are mounted here the way the CLI mounts them on its `sync`, `scan` and
`permissions` groups; the Azure context is the replay server's (no real credentials).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import typer
from azure.identity import CredentialUnavailableError
from typer.testing import CliRunner

from opencwpp.cli import azure_commands
from opencwpp.cli.common import AppState
from opencwpp.collect.azure.context import AzureContext
from opencwpp.collect.sync import SyncFailed
from opencwpp.core.errors import CredentialsError, UsageError
from opencwpp.lake import Lake

if TYPE_CHECKING:
    from tests.integration.azure_fixtures import ArmReplay

pytest_plugins = ["tests.integration.azure_fixtures"]

SUB_A = "00000000-0000-0000-0000-000000000000"
runner = CliRunner(env={"COLUMNS": "250"})


def _app() -> typer.Typer:
    app = typer.Typer()
    groups = {name: typer.Typer() for name in ("sync", "scan", "permissions")}
    groups["sync"].command("azure")(azure_commands.sync_azure_command)
    groups["scan"].command("azure")(azure_commands.scan_azure_command)
    groups["permissions"].command("azure")(azure_commands.permissions_azure_command)
    for name, group in groups.items():
        app.add_typer(group, name=name)

    @app.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = AppState()

    return app


@pytest.fixture
def replayed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, azure_context: AzureContext
) -> AzureContext:
    """`AzureContext.create()` answers with the replay server's context; no user config."""
    monkeypatch.setattr(AzureContext, "create", classmethod(lambda cls, **_: azure_context))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("CWPP_LAKE", raising=False)
    monkeypatch.chdir(tmp_path)
    return azure_context


def test_sync_azure_prints_what_it_did_and_what_it_could_not(
    replayed: AzureContext, tmp_path: Path
) -> None:
    lake = f"duckdb://{tmp_path}/lake.duckdb"
    result = runner.invoke(_app(), ["sync", "azure", "--subscriptions", SUB_A, "--lake", lake])
    assert result.exit_code == 0, result.output
    assert f"synced 1 Azure subscription(s) {SUB_A}" in result.stdout
    assert f"not assessed: subscription {SUB_A}: AuthorizationFailed (HTTP 403)" in result.stderr
    assert "keyvault.keys" in result.stderr
    with Lake.open(lake) as opened:
        assert opened.query("SELECT count(*) AS n FROM azure_storage_accounts")[0]["n"] == 2


def test_scan_azure_runs_only_azure_checks_and_gates(
    replayed: AzureContext, tmp_path: Path
) -> None:
    lake = f"duckdb://{tmp_path}/lake.duckdb"
    result = runner.invoke(_app(), ["scan", "azure", "--lake", lake, "--fail-on", "high"])
    assert result.exit_code == 1, result.output
    assert "failing finding(s) at or above high" in result.stderr
    with Lake.open(lake) as opened:
        checks = {r["check_id"] for r in opened.query("SELECT check_id FROM cwpp_findings")}
    assert checks == set(azure_commands.azure_check_ids())


def test_bad_input_is_one_clear_line(replayed: AzureContext, tmp_path: Path) -> None:
    lake = f"duckdb://{tmp_path}/lake.duckdb"
    result = runner.invoke(_app(), ["sync", "azure", "--subscriptions", "prod,", "--lake", lake])
    assert isinstance(result.exception, UsageError)
    assert str(result.exception).startswith("not an Azure subscription id: 'prod'")
    assert "\n" not in str(result.exception)
    other = "22222222-2222-2222-2222-222222222222"
    result = runner.invoke(_app(), ["sync", "azure", "--subscriptions", other, "--lake", lake])
    assert isinstance(result.exception, UsageError)
    assert "not visible to these credentials" in str(result.exception)


def test_a_failed_unit_ends_non_zero_after_printing_it(
    replayed: AzureContext, arm: ArmReplay, tmp_path: Path
) -> None:
    path = f"/subscriptions/{SUB_A}/providers/Microsoft.Storage/storageAccounts"
    arm.overrides[path] = (500, {"error": {"code": "InternalServerError", "message": "boom"}})
    lake = f"duckdb://{tmp_path}/lake.duckdb"
    result = runner.invoke(_app(), ["sync", "azure", "--subscriptions", SUB_A, "--lake", lake])
    assert isinstance(result.exception, SyncFailed)
    assert "storage.accounts" in result.stderr and "failed:" in result.stderr


class _NoCredential:
    def get_token(self, *scopes: str, **_: Any) -> Any:
        raise CredentialUnavailableError(
            "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
            "Attempted credentials:\n\tEnvironmentCredential: ..."
        )


def test_missing_credentials_say_how_to_fix_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, arm: ArmReplay
) -> None:
    import azure.identity

    # What DefaultAzureCredential does with nothing configured, without probing any endpoint.
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", _NoCredential)
    monkeypatch.setattr(
        AzureContext,
        "create",
        classmethod(
            lambda cls, **_: AzureContext(
                azure.identity.DefaultAzureCredential(),
                arm_endpoint=arm.url,
                connection_verify=arm.ca_file,
                graph_endpoint=arm.url,
            )
        ),
    )
    lake = f"duckdb://{tmp_path}/lake.duckdb"
    result = runner.invoke(_app(), ["sync", "azure", "--lake", lake])
    assert isinstance(result.exception, CredentialsError)
    message = str(result.exception)
    assert message.startswith("no usable Azure credentials (DefaultAzureCredential failed")
    assert "az login" in message and "\n" not in message
    assert arm.requests == []  # no token, nothing sent


def test_permissions_azure_prints_a_read_only_role() -> None:
    result = runner.invoke(_app(), ["permissions", "azure"])
    assert result.exit_code == 0, result.output
    role = json.loads(result.stdout)
    assert role["Actions"] and all(a.endswith("/read") for a in role["Actions"])
    assert role["DataActions"] == []
    assert "Microsoft Graph application permissions" in result.stderr
    assert "User.Read.All" in result.stderr
