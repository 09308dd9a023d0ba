"""The Azure resource registry, the expected-error allow-list and small transform helpers.

Each module under `opencwpp.collect.azure` registers `AzureResource`s: the tables a fetch fills,
the Azure RBAC read actions it needs (`Microsoft.Storage/storageAccounts/read` …) and the fetch
itself, called once per subscription. Errors a fetch may meet are sorted here: "not assessable"
ones (403, 404, resource provider not registered) make the scope NOT_ASSESSED with the reason;
anything else fails the unit.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError

from opencwpp.core.registry import Registry
from opencwpp.lake.schema import Table, cq_id

Row = dict[str, Any]
Rows = dict[Table, list[Row]]
Fetch = Callable[[Any], Rows]

SOURCE_NAME = "azure"
# HTTP statuses that mean "this caller cannot see this scope": recorded as not assessed.
NOT_ASSESSED_STATUS = {403: "access denied", 404: "not found"}


class ProviderNotRegistered(Exception):
    """ARM answered MissingSubscriptionRegistration: the resource provider is not registered.

    Raised by the read-only transport instead of letting azure-mgmt-core register the provider
    for us (a POST, which a read-only collector must never send).
    """

    def __init__(self, namespace: str, message: str = "") -> None:
        self.namespace = namespace
        super().__init__(message or f"resource provider {namespace} is not registered")


class GraphTokenUnavailable(AzureError):
    """No Microsoft Graph token for a tenant (no consent, tenant not allowed): not assessed."""

    def __init__(self, tenant_id: str, detail: str) -> None:
        self.tenant_id = tenant_id
        where = f" for tenant {tenant_id}" if tenant_id else ""
        super().__init__(f"no Microsoft Graph token{where}: {detail}")


class ReadOnlyViolation(Exception):
    """A client tried to send something other than GET: refused before it left the process."""


@dataclass(frozen=True)
class AzureResource:
    """One collectable unit per subscription: its tables, read permissions and fetch.

    Attributes:
        name: unique id, `<service>.<resource>` (e.g. `storage.accounts`).
        service: the Azure service (e.g. `storage`).
        tables: every table `fetch` returns rows for.
        permissions: the Azure RBAC actions the fetch needs, all of them `…/read`.
        fetch: `fetch(subscription_context) -> {Table: rows}`.
        graph_permissions: Microsoft Graph application permissions (`User.Read.All` …) for
            directory reads, which Azure RBAC cannot grant; all of them `*.Read.All`.
    """

    name: str
    service: str
    tables: tuple[Table, ...]
    permissions: tuple[str, ...]
    fetch: Fetch
    description: str = ""
    graph_permissions: tuple[str, ...] = ()

    @property
    def own_tables(self) -> tuple[Table, ...]:
        """The tables this resource owns (all of them: Azure has no shared derived tables)."""
        return self.tables


AZURE_RESOURCES: Registry[AzureResource] = Registry("azure collector")


def register(resource: AzureResource) -> AzureResource:
    """Adds a resource to the Azure registry (called at import time of its module)."""
    return AZURE_RESOURCES.add(resource.name, resource)


def load_resources() -> Registry[AzureResource]:
    """Imports every resource module of this package so that their resources register."""
    package = importlib.import_module("opencwpp.collect.azure")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in _NOT_RESOURCES and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    return AZURE_RESOURCES


_NOT_RESOURCES = frozenset({"base", "context", "sync"})


def azure_tables() -> dict[str, Table]:
    """Every table an Azure resource declares, by name."""
    tables: dict[str, Table] = {}
    for resource in load_resources():
        for tbl in resource.tables:
            tables.setdefault(tbl.name, tbl)
    return tables


def least_privilege_role() -> dict[str, Any]:
    """A custom Azure role definition granting exactly the read actions the collector needs."""
    actions = sorted({p for r in load_resources() for p in r.permissions}, key=str.lower)
    return {
        "Name": "opencwpp reader",
        "IsCustom": True,
        "Description": "Read-only inventory for opencwpp (no data-plane reads of secrets).",
        "Actions": actions,
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": ["/subscriptions/<subscription-id>"],
    }


def graph_permissions() -> list[str]:
    """The Microsoft Graph application permissions the collector needs (admin consent)."""
    return sorted({p for r in load_resources() for p in r.graph_permissions}, key=str.lower)


def is_graph_read_permission(permission: str) -> bool:
    """Whether a Microsoft Graph permission only reads (`<Resource>.Read.All`)."""
    parts = permission.split(".")
    return len(parts) == 3 and parts[0].isalpha() and parts[1:] == ["Read", "All"]


def is_read_permission(permission: str) -> bool:
    """Whether an Azure RBAC action only reads (`<Namespace>/<type>/…/read`)."""
    return permission.startswith("Microsoft.") and permission.endswith("/read")


def error_code(err: HttpResponseError) -> str:
    """The ARM or storage error code of a response error ('' when absent)."""
    code = getattr(err, "error_code", None)
    if not code and err.error is not None:
        code = err.error.code
    return str(code or "")


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:limit]


def not_assessed_reason(err: BaseException) -> str | None:
    """Why a scope cannot be assessed, when `err` is an expected one; None otherwise."""
    if isinstance(err, ProviderNotRegistered):
        return f"resource provider {err.namespace} not registered in the subscription"
    if isinstance(err, GraphTokenUnavailable):
        return str(err)
    if isinstance(err, HttpResponseError) and err.status_code in NOT_ASSESSED_STATUS:
        code = error_code(err) or NOT_ASSESSED_STATUS[err.status_code]
        message = err.error.message if err.error is not None and err.error.message else ""
        detail = _first_line(message or str(err.reason or ""))
        return f"{code} (HTTP {err.status_code})" + (f": {detail}" if detail else "")
    return None


def list_raw(pager: Callable[..., Iterable[Any]], *args: Any, **kwargs: Any) -> list[Row]:
    """Every item of a paged ARM list call, as the REST API's JSON (what CloudQuery stores).

    The SDK pages through `nextLink` itself; a response hook keeps each page's raw `value` items,
    so fields the SDK's models drop (older api-versions, new properties) still reach the lake.
    """
    items: list[Row] = []

    def keep(response: Any) -> None:
        http = response.http_response
        if http.status_code == 200:
            items.extend(json.loads(http.text() or "{}").get("value") or [])

    for _ in pager(*args, raw_response_hook=keep, **kwargs):
        pass
    return items


def resource_group_of(resource_id: str) -> str:
    """The resource group named in an ARM resource id ('' when it has none)."""
    parts = resource_id.split("/")
    for index, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[index + 1]
    return ""


def subscription_of(resource_id: str) -> str:
    """The subscription id in an ARM resource id ('' when it has none)."""
    parts = resource_id.split("/")
    for index, part in enumerate(parts[:-1]):
        if part.lower() == "subscriptions":
            return parts[index + 1]
    return ""


def with_ids(row: Row, key: tuple[str, ...] = ("id",), parent: Row | None = None) -> Row:
    """Sets the row's deterministic `_cq_id` from `key` (and `_cq_parent_id` from `parent`).

    CloudQuery derives Azure ids from the primary key; doing the same keeps a resource's id
    across syncs and lets a child point at its parent before either is written.
    """
    row["_cq_id"] = cq_id(row, key)
    if parent is not None:
        row["_cq_parent_id"] = parent["_cq_id"]
    return row
