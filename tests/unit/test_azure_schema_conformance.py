"""Azure tables match CloudQuery's Azure schema; every Azure resource declares read permissions."""

from __future__ import annotations

import json
from typing import Any

from opencwpp.collect.azure.base import (
    azure_tables,
    graph_permissions,
    is_graph_read_permission,
    is_read_permission,
    least_privilege_role,
    load_resources,
)
from tests.conftest import require_shared


def _reference() -> tuple[dict[str, Any], dict[str, str]]:
    path = require_shared("cloudquery-schema") / "azure_tables.json"
    data = json.loads(path.read_text())
    # Tables CloudQuery renamed after its last open docs: our name -> the documented one.
    renamed = {new.split(" ")[0]: old for old, new in data["renamed_after_open_docs"].items()}
    return data["tables"], renamed


def test_azure_tables_match_the_cloudquery_reference() -> None:
    reference, renamed = _reference()
    ours = {name: t for name, t in azure_tables().items() if name.startswith("azure_")}
    assert len(ours) >= 9
    problems: list[str] = []
    for name, tbl in sorted(ours.items()):
        ref = reference.get(renamed.get(name, name))
        if ref is None:
            problems.append(f"{name}: not in the CloudQuery reference")
            continue
        expected = [(c["name"], c["type"]) for c in ref["columns"]]
        actual = [(c.name, c.type) for c in tbl.columns]
        if sorted(expected) != sorted(actual):
            missing = sorted(set(expected) - set(actual))
            extra = sorted(set(actual) - set(expected))
            problems.append(f"{name}: missing {missing} extra {extra}")
        if list(tbl.cq_id_from) != list(ref.get("cq_id_from") or []):
            problems.append(f"{name}: cq_id_from {tbl.cq_id_from} != {ref.get('cq_id_from')}")
        parent = ref.get("parent")
        renamed_back = {old: new for new, old in renamed.items()}
        if tbl.parent != renamed_back.get(parent, parent):
            problems.append(f"{name}: parent {tbl.parent} != {parent}")
    assert not problems, "\n".join(problems)


def test_the_requested_tables_are_all_collected() -> None:
    wanted = {
        "azure_subscription_subscriptions",
        "azure_storage_accounts",
        "azure_storage_blob_services",
        "azure_storage_containers",
        "azure_authorization_role_assignments",
        "azure_authorization_role_definitions",
        "azure_keyvault_keyvaults",
        "azure_keyvault_keyvault_keys",
        "azure_keyvault_keyvault_secrets",
    }
    assert wanted <= set(azure_tables())


def test_our_own_tables_are_prefixed_and_scoped_by_subscription() -> None:
    for name, tbl in azure_tables().items():
        assert name.startswith(("azure_", "cwpp_azure_")), name
        if name.startswith("cwpp_"):
            assert tbl.account_column == "subscription_id", name
        # Every table is scoped by subscription: a subscription column, or an ARM id.
        assert tbl.account_column == "subscription_id" or tbl.has_column("id"), name


def test_every_resource_declares_azure_read_actions_only() -> None:
    tables = azure_tables()
    resources = list(load_resources())
    assert len(resources) >= 8
    for resource in resources:
        declared = resource.permissions + resource.graph_permissions
        assert declared, f"{resource.name} declares no permissions"
        writes = [p for p in resource.permissions if not is_read_permission(p)]
        writes += [p for p in resource.graph_permissions if not is_graph_read_permission(p)]
        assert not writes, f"{resource.name} needs non-read permissions: {writes}"
        assert all(p.endswith("/read") for p in resource.permissions)
        assert resource.name.startswith(f"{resource.service}."), resource.name
        for tbl in resource.tables:
            assert tables.get(tbl.name) is tbl, f"{resource.name}: {tbl.name}"
    role = least_privilege_role()
    assert role["DataActions"] == [] and role["Actions"]
    assert all(a.endswith("/read") for a in role["Actions"])
    assert "Microsoft.KeyVault/vaults/secrets/read" in role["Actions"]
    # Directory reads are Microsoft Graph application permissions, not RBAC actions.
    assert graph_permissions() == ["User.Read.All"]
    assert not [a for a in role["Actions"] if not a.startswith("Microsoft.")]


def test_read_permission_rule() -> None:
    assert is_read_permission("Microsoft.Storage/storageAccounts/read")
    assert not is_read_permission("Microsoft.Storage/storageAccounts/listKeys/action")
    assert not is_read_permission("Microsoft.Storage/storageAccounts/write")
    assert not is_read_permission("*/read")
    assert is_graph_read_permission("User.Read.All")
    assert is_graph_read_permission("Directory.Read.All")
    assert not is_graph_read_permission("User.ReadWrite.All")
    assert not is_graph_read_permission("Directory.AccessAsUser.All")
    assert not is_graph_read_permission("User.Read")  # delegated, signed-in user only
