"""Azure SQL logical servers and their databases, with the settings the SQL checks judge.

Servers carry public network access and the minimal TLS version; per server we list its
auditing policy, firewall rules, Entra ID (Azure AD) administrators and TDE protector; per
database its transparent data encryption state. Each is one unit, so a denied call leaves the
others assessed. The `master` database is not asked for TDE: Azure manages its encryption and
the setting cannot be changed there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opencwpp.collect.azure import _clients
from opencwpp.collect.azure.base import (
    AzureResource,
    Row,
    Rows,
    list_raw,
    register,
    resource_group_of,
    with_ids,
)
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import JSON, Table, table

SERVERS = table(
    "azure_sql_servers",
    [
        "subscription_id",
        "location",
        ("identity", JSON),
        ("properties", JSON),
        ("tags", JSON),
        "id",
        "kind",
        "name",
        "type",
    ],
)
DATABASES = table(
    "azure_sql_server_databases",
    [
        "subscription_id",
        "location",
        ("identity", JSON),
        ("properties", JSON),
        ("sku", JSON),
        ("tags", JSON),
        "id",
        "kind",
        "managed_by",
        "name",
        "type",
    ],
    parent=SERVERS.name,
)
_CHILD: list[tuple[str, str] | str] = [
    "subscription_id",
    ("properties", JSON),
    "id",
    "name",
    "type",
]
TDE = table("azure_sql_transparent_data_encryptions", _CHILD, parent=DATABASES.name)
AUDITING = table("azure_sql_server_blob_auditing_policies", _CHILD, parent=SERVERS.name)
FIREWALL_RULES = table("azure_sql_server_firewall_rules", _CHILD, parent=SERVERS.name)
ADMINS = table("azure_sql_server_admins", _CHILD, parent=SERVERS.name)
PROTECTORS = table(
    "azure_sql_server_encryption_protectors",
    ["subscription_id", ("properties", JSON), "id", "kind", "location", "name", "type"],
    parent=SERVERS.name,
)
READ_SERVERS = "Microsoft.Sql/servers/read"
READ_DATABASES = "Microsoft.Sql/servers/databases/read"
_SYSTEM_DATABASES = frozenset({"master"})


def transform_server(subscription_id: str, item: Mapping[str, Any]) -> Row:
    """A logical server (REST JSON of Servers - List) as a row; no admin password is listed."""
    properties = {
        k: v for k, v in (item.get("properties") or {}).items() if k != "administratorLoginPassword"
    }
    row: Row = {
        "subscription_id": subscription_id,
        "location": item.get("location"),
        "identity": item.get("identity"),
        "properties": properties,
        "tags": item.get("tags") or {},
        "id": item.get("id"),
        "kind": item.get("kind"),
        "name": item.get("name"),
        "type": item.get("type"),
    }
    return with_ids(row)


def transform_database(subscription_id: str, server: Row, item: Mapping[str, Any]) -> Row:
    """A database (REST JSON of Databases - List By Server) as a child row of its server."""
    row: Row = {
        "subscription_id": subscription_id,
        "location": item.get("location"),
        "identity": item.get("identity"),
        "properties": item.get("properties") or {},
        "sku": item.get("sku"),
        "tags": item.get("tags") or {},
        "id": item.get("id"),
        "kind": item.get("kind"),
        "managed_by": item.get("managedBy"),
        "name": item.get("name"),
        "type": item.get("type"),
    }
    return with_ids(row, parent=server)


def transform_child(tbl: Table, subscription_id: str, parent: Row, item: Mapping[str, Any]) -> Row:
    """A server or database setting (auditing, firewall rule, admin, TDE …) as a child row."""
    row: Row = {"subscription_id": subscription_id}
    for column in tbl.columns:
        if column.name in ("_cq_id", "_cq_parent_id", "subscription_id"):
            continue
        row[column.name] = item.get(column.name)
    row["properties"] = item.get("properties") or {}
    if "location" in row and not row["location"]:
        row["location"] = parent.get("location")
    return with_ids(row, parent=parent)


def servers(sub: SubscriptionContext) -> list[Row]:
    """The subscription's SQL servers as rows, listed once for every SQL unit."""

    def load() -> list[Row]:
        items = list_raw(_clients.sql(sub).servers.list)
        return [transform_server(sub.subscription_id, item) for item in items]

    return sub.shared("sql_servers", load)


def databases(sub: SubscriptionContext) -> list[Row]:
    """Every database of every server, listed once for the database and TDE units."""

    def load() -> list[Row]:
        operations = _clients.sql(sub).databases
        rows: list[Row] = []
        for server in servers(sub):
            group = resource_group_of(str(server["id"]))
            items = list_raw(operations.list_by_server, group, server["name"])
            rows += [transform_database(sub.subscription_id, server, i) for i in items]
        return rows

    return sub.shared("sql_databases", load)


def fetch_servers(sub: SubscriptionContext) -> Rows:
    """SQL logical servers of the subscription."""
    return {SERVERS: [dict(s) for s in servers(sub)]}


def fetch_databases(sub: SubscriptionContext) -> Rows:
    """Databases of every SQL server."""
    return {DATABASES: [dict(d) for d in databases(sub)]}


def fetch_tde(sub: SubscriptionContext) -> Rows:
    """The transparent data encryption state of every user database."""
    operations = _clients.sql(sub).transparent_data_encryptions
    by_id = {s["_cq_id"]: s for s in servers(sub)}
    rows: list[Row] = []
    for database in databases(sub):
        if str(database["name"]).lower() in _SYSTEM_DATABASES:
            continue
        server = by_id[database["_cq_parent_id"]]
        group = resource_group_of(str(server["id"]))
        items = list_raw(operations.list_by_database, group, server["name"], database["name"])
        rows += [transform_child(TDE, sub.subscription_id, database, i) for i in items]
    return {TDE: rows}


def _per_server(tbl: Table, operation: Callable[[Any], Any]) -> Callable[[Any], Rows]:
    def fetch(sub: SubscriptionContext) -> Rows:
        pager = operation(_clients.sql(sub))
        rows: list[Row] = []
        for server in servers(sub):
            group = resource_group_of(str(server["id"]))
            items = list_raw(pager, group, server["name"])
            rows += [transform_child(tbl, sub.subscription_id, server, i) for i in items]
        return {tbl: rows}

    fetch.__doc__ = f"The {tbl.name} rows of every SQL server."
    return fetch


def _unit(name: str, tables: tuple[Table, ...], permission: str, fetch: Any, text: str) -> None:
    register(
        AzureResource(
            name=f"sql.{name}",
            service="sql",
            tables=tables,
            permissions=tuple(dict.fromkeys((READ_SERVERS, permission))),
            fetch=fetch,
            description=text,
        )
    )


_unit("servers", (SERVERS,), READ_SERVERS, fetch_servers, "SQL servers: public access, TLS.")
_unit("databases", (DATABASES,), READ_DATABASES, fetch_databases, "SQL databases.")
_unit(
    "transparent_data_encryptions",
    (TDE,),
    "Microsoft.Sql/servers/databases/transparentDataEncryption/read",
    fetch_tde,
    "Transparent data encryption state of every user database.",
)
_unit(
    "auditing_policies",
    (AUDITING,),
    "Microsoft.Sql/servers/auditingSettings/read",
    _per_server(AUDITING, lambda c: c.server_blob_auditing_policies.list_by_server),
    "Server auditing: state, retention, destinations.",
)
_unit(
    "firewall_rules",
    (FIREWALL_RULES,),
    "Microsoft.Sql/servers/firewallRules/read",
    _per_server(FIREWALL_RULES, lambda c: c.firewall_rules.list_by_server),
    "Server firewall rules (start and end IP addresses).",
)
_unit(
    "admins",
    (ADMINS,),
    "Microsoft.Sql/servers/administrators/read",
    _per_server(ADMINS, lambda c: c.server_azure_ad_administrators.list_by_server),
    "Entra ID (Azure AD) administrators of every server.",
)
_unit(
    "encryption_protectors",
    (PROTECTORS,),
    "Microsoft.Sql/servers/encryptionProtector/read",
    _per_server(PROTECTORS, lambda c: c.encryption_protectors.list_by_server),
    "TDE protector of every server: service-managed or customer-managed key.",
)
