"""Activity Log diagnostic settings of each subscription (where the Activity Log is exported).

CloudQuery keeps the log categories inside `properties.logs`; checks must not walk JSON arrays,
so each category of each setting is also a row of `cwpp_azure_monitor_diagnostic_log_categories`
(`category` or `category_group`, `enabled`). The pinned azure-mgmt-monitor has no operation for
subscription diagnostic settings, so the ARM path is read through the Resource Manager
client's pipeline (same credential, read-only transport and retries).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.azure import _clients
from opencwpp.collect.azure.base import AzureResource, Row, Rows, register, with_ids
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import BOOL, JSON, table

DIAGNOSTIC_SETTINGS = table(
    "azure_monitor_subscription_diagnostic_settings",
    ["subscription_id", ("properties", JSON), "id", "name", ("system_data", JSON), "type"],
)
CATEGORY_KEY = ("setting_id", "category", "category_group")
LOG_CATEGORIES = table(
    "cwpp_azure_monitor_diagnostic_log_categories",
    [
        "subscription_id",
        "setting_id",
        "setting_name",
        "category",
        "category_group",
        ("enabled", BOOL),
    ],
    cq_id_from=CATEGORY_KEY,
    parent=DIAGNOSTIC_SETTINGS.name,
    description="One row per log category (or category group) of a subscription diagnostic "
    "setting, with whether it is enabled.",
)
API_VERSION = "2021-05-01-preview"


def transform_setting(subscription_id: str, item: Mapping[str, Any]) -> Rows:
    """A diagnostic setting (REST JSON) and its log categories as rows."""
    props = item.get("properties") or {}
    setting: Row = with_ids(
        {
            "subscription_id": subscription_id,
            "properties": props,
            "id": item.get("id"),
            "name": item.get("name"),
            "system_data": item.get("systemData"),
            "type": item.get("type"),
        }
    )
    categories: dict[str, Row] = {}
    for log in props.get("logs") or []:
        if not isinstance(log, Mapping):
            continue
        row = with_ids(
            {
                "subscription_id": subscription_id,
                "setting_id": setting["id"],
                "setting_name": setting["name"],
                "category": log.get("category"),
                "category_group": log.get("categoryGroup"),
                "enabled": log.get("enabled") is True,
            },
            CATEGORY_KEY,
            setting,
        )
        categories.setdefault(row["_cq_id"], row)
    return {DIAGNOSTIC_SETTINGS: [setting], LOG_CATEGORIES: list(categories.values())}


def fetch_diagnostic_settings(sub: SubscriptionContext) -> Rows:
    """The subscription's Activity Log diagnostic settings and their categories."""
    path = f"/subscriptions/{sub.subscription_id}/providers/Microsoft.Insights/diagnosticSettings"
    body = _clients.get_raw(_clients.resources(sub), path, API_VERSION)
    out: Rows = {DIAGNOSTIC_SETTINGS: [], LOG_CATEGORIES: []}
    for item in body.get("value") or []:
        if isinstance(item, Mapping):
            for tbl, rows in transform_setting(sub.subscription_id, item).items():
                out[tbl] += rows
    return out


register(
    AzureResource(
        name="monitor.subscription_diagnostic_settings",
        service="monitor",
        tables=(DIAGNOSTIC_SETTINGS, LOG_CATEGORIES),
        permissions=("Microsoft.Insights/DiagnosticSettings/read",),
        fetch=fetch_diagnostic_settings,
        description="Activity Log diagnostic settings: destinations and log categories.",
    )
)
