"""Effective access to Azure blob data over the lake (DuckDB and PostgreSQL), and its CLI.

The estate (tests/data/azure/blob_access/estate.json) is loaded through the collector's own
transforms. Near misses: a custom role whose notDataActions remove the read, a reader at another
account's scope (`stdata2`, which shares a prefix with `stdata`), a Reader with no data action,
key holders on accounts with shared-key access disabled, a public container in an account that
forbids anonymous access, a reader of one container asked about another.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opencwpp.cli import app
from opencwpp.collect.azure.authorization import (
    ROLE_ACTIONS,
    ROLE_ASSIGNMENTS,
    ROLE_DEFINITIONS,
    ROLE_SCOPES,
    transform_assignment,
    transform_definition,
)
from opencwpp.collect.azure.blob import CONTAINERS, transform_arm_container
from opencwpp.collect.azure.storage import ACCOUNTS, transform_account
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Severity, Status
from opencwpp.findings import load_findings
from opencwpp.iam.azure_blob import BLOB_READ, LIST_KEYS, who_can_azure
from opencwpp.iam.azure_blob_findings import CHECK, blob_reader_findings
from opencwpp.iam.azure_rbac import action_matches
from opencwpp.lake import Lake

ESTATE = Path(__file__).resolve().parents[1] / "data" / "azure" / "blob_access" / "estate.json"
SUB = "00000000-0000-0000-0000-000000000000"
RG = f"/subscriptions/{SUB}/resourceGroups"
DATA = f"{RG}/rg-data/providers/Microsoft.Storage/storageAccounts/stdata"
DATA2 = f"{RG}/rg-data/providers/Microsoft.Storage/storageAccounts/stdata2"
LOCKED = f"{RG}/rg-secure/providers/Microsoft.Storage/storageAccounts/stlocked"
OWNER, RG_READER, OTHER_READER, NOT_READ = (
    f"11111111-0000-0000-0000-00000000000{c}" for c in "abcd"
)
FOREIGN, MG_OWNER = "11111111-0000-0000-0000-00000000000e", "11111111-0000-0000-0000-00000000000f"
CONTAINER_READER = "11111111-0000-0000-0000-000000000010"
SP_READER, SA_CONTRIB = (
    "11111111-0000-0000-0000-000000000011",
    "11111111-0000-0000-0000-000000000012",
)
RG_CONTRIB = "11111111-0000-0000-0000-000000000013"


def load_estate(lake: Lake, path: Path = ESTATE) -> None:
    """Writes the estate's rows into the lake through the collector's transforms."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    sub = data["subscription_id"]
    tables = (ROLE_ASSIGNMENTS, ROLE_DEFINITIONS, ROLE_ACTIONS, ROLE_SCOPES, ACCOUNTS, CONTAINERS)
    lake.ensure_tables(tables)
    lake.insert_rows(
        ROLE_ASSIGNMENTS, [transform_assignment(sub, a) for a in data["role_assignments"]]
    )
    for item in data["role_definitions"]:
        for tbl, rows in transform_definition(sub, item).items():
            lake.insert_rows(tbl, rows)
    accounts = {a["id"]: transform_account(sub, a) for a in data["storage_accounts"]}
    lake.insert_rows(ACCOUNTS, list(accounts.values()))
    for item in data["containers"]:
        account = accounts[item["id"].split("/blobServices/")[0]]
        lake.insert_rows(CONTAINERS, [transform_arm_container(sub, account, item)])


def _who(lake: Lake, resource: str, action: str = BLOB_READ) -> dict[str, set[str]]:
    grants, warnings = who_can_azure(lake, action, resource)
    assert warnings == []
    out: dict[str, set[str]] = {}
    for g in grants:
        out.setdefault(g.principal_id, set()).add(g.via)
    return out


def test_action_patterns_are_case_insensitive_wildcards() -> None:
    assert action_matches("Microsoft.Storage/*/blobs/*", BLOB_READ.upper())
    assert action_matches("*", LIST_KEYS)
    assert not action_matches("*/read", LIST_KEYS)
    assert not action_matches("Microsoft.Storage/storageAccounts/listKeys", LIST_KEYS)
    assert not action_matches("Microsoft.Storage/storageAccounts/list.eys/action", LIST_KEYS)


def test_who_can_read_blobs_of_an_open_account(lake: Lake) -> None:
    load_estate(lake)
    assert _who(lake, DATA) == {
        OWNER: {"account-keys"},  # Owner at the subscription lists the keys
        RG_READER: {"data-role"},  # Blob Data Reader on the resource group
        FOREIGN: {"data-role"},
        MG_OWNER: {"data-role"},  # Blob Data Owner (blobs/*) at a management group
        CONTAINER_READER: {"data-role"},  # on container priv only
        "anonymous": {"anonymous"},  # container pub, Blob level
    }


def test_near_misses_on_locked_account(lake: Lake) -> None:
    load_estate(lake)
    # Shared key off: Owner, Storage Account Contributor and Contributor hold listKeys in vain;
    # the public container is not public since the account forbids anonymous access.
    assert _who(lake, LOCKED) == {MG_OWNER: {"data-role"}}
    # Those holders do list the keys (a control-plane action) all the same.
    assert set(_who(lake, LOCKED, LIST_KEYS)) == {OWNER, SA_CONTRIB, RG_CONTRIB}


def test_scope_of_another_account_and_containers(lake: Lake) -> None:
    load_estate(lake)
    assert set(_who(lake, DATA2)) == {RG_READER, OTHER_READER, FOREIGN, MG_OWNER}
    assert OTHER_READER not in _who(lake, DATA)
    pub = _who(lake, f"{DATA}/blobServices/default/containers/pub")
    assert CONTAINER_READER not in pub and "anonymous" in pub
    priv = _who(lake, f"{DATA}/blobServices/default/containers/priv")
    assert CONTAINER_READER in priv and "anonymous" not in priv
    # Write is not anonymous, and the custom role that excludes read does write.
    write = _who(
        lake, DATA, "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
    )
    assert NOT_READ in write and "anonymous" not in write and RG_READER not in write
    assert NOT_READ not in _who(lake, DATA) and SP_READER not in _who(lake, DATA)


def test_unknown_resource_is_a_lookup_error(lake: Lake) -> None:
    load_estate(lake)
    with pytest.raises(LookupError):
        who_can_azure(
            lake, BLOB_READ, f"{RG}/rg-data/providers/Microsoft.Storage/storageAccounts/nope"
        )


def test_findings_per_account(lake: Lake) -> None:
    load_estate(lake)
    found, warnings = blob_reader_findings(lake)
    assert warnings == []
    by = {f.resource.uid: f for f in found}
    assert by[DATA].status is Status.FAIL and by[DATA].severity is Severity.HIGH
    assert (
        by[DATA].title
        == "Storage account stdata blob data readable by 5 principal(s) incl. anonymous"
    )
    assert "through the account keys" in by[DATA].status_reason
    assert by[DATA2].status is Status.FAIL and "ForeignGroup" in by[DATA2].status_reason
    assert by[DATA2].severity is Severity.MEDIUM
    assert by[LOCKED].status is Status.PASS
    assert by[LOCKED].title.endswith("readable by 1 principal(s)")


def test_cli_who_can_and_findings(lake: Lake) -> None:
    load_estate(lake)
    url = lake.url
    lake.close()
    runner = CliRunner()
    res = runner.invoke(app, ["iam", "who-can", BLOB_READ, DATA, "--lake", url, "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert {r["principal_id"] for r in rows} >= {OWNER, "anonymous"}
    res = runner.invoke(app, ["iam", "who-can", BLOB_READ, DATA, "--lake", url])
    assert res.exit_code == 0 and "account-keys" in res.stdout
    res = runner.invoke(app, ["iam", "who-can", BLOB_READ, DATA + "x", "--lake", url])
    assert isinstance(res.exception, UsageError)
    assert "no Azure storage account" in str(res.exception)
    res = runner.invoke(app, ["iam", "azure-blob-readers", "--lake", url])
    assert res.exit_code == 0, res.output
    assert "3 storage account(s) judged" in res.stdout
    with Lake.open(url) as reopened:
        stored = [s.finding for s in load_findings(reopened) if s.finding.check_id == CHECK]
    assert {(f.resource.uid, f.status) for f in stored} >= {
        (DATA, Status.FAIL),
        (LOCKED, Status.PASS),
    }
