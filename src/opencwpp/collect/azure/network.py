"""Network security groups (with their rules split into rows) and network interfaces.

CloudQuery keeps an NSG's rules inside its `properties` JSON. Checks must not walk JSON arrays,
so every rule, custom and default, is also split into `cwpp_azure_network_security_rules`: one
row per rule x source prefix x destination port range, with the port range parsed into numbers
(`*` is 0-65535) so that a check asks `from_port <= 22 AND to_port >= 22`. A rule whose source
is an application security group gets one row with `source_asg_id` set instead. No judgement is
made here: priorities, access and direction are copied as they are.

Network interfaces carry their IP configurations (which public IP, which VM), which CloudQuery
also stores as child rows (`azure_network_interface_ip_configurations`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opencwpp.collect.azure import _clients
from opencwpp.collect.azure.base import AzureResource, Row, Rows, list_raw, register, with_ids
from opencwpp.collect.azure.context import SubscriptionContext
from opencwpp.lake.schema import BOOL, INT64, JSON, table

SECURITY_GROUPS = table(
    "azure_network_security_groups",
    [
        "subscription_id",
        "id",
        "location",
        ("properties", JSON),
        ("tags", JSON),
        "etag",
        "name",
        "type",
    ],
)
RULE_KEY = ("nsg_id", "rule_id", "source_prefix", "source_asg_id", "destination_port_range")
SECURITY_RULES = table(
    "cwpp_azure_network_security_rules",
    [
        "subscription_id",
        "nsg_id",
        "nsg_name",
        "location",
        "rule_id",
        "rule_name",
        ("is_default", BOOL),
        "direction",
        "access",
        "protocol",
        ("priority", INT64),
        "source_prefix",
        "source_asg_id",
        "destination_port_range",
        ("from_port", INT64),
        ("to_port", INT64),
        "description",
    ],
    cq_id_from=RULE_KEY,
    parent="azure_network_security_groups",
    indexes=[("nsg_id",)],
    description="One row per NSG rule x source prefix (or application security group) x "
    "destination port range; from_port/to_port parsed from the range ('*' = 0-65535, NULL when "
    "unparsable). is_default marks Azure's built-in rules.",
)
INTERFACES = table(
    "azure_network_interfaces",
    [
        "subscription_id",
        ("extended_location", JSON),
        "id",
        "location",
        ("properties", JSON),
        ("tags", JSON),
        "etag",
        "name",
        "type",
    ],
)
IP_CONFIGURATIONS = table(
    "azure_network_interface_ip_configurations",
    ["subscription_id", "id", "name", ("properties", JSON), "type", "etag"],
    parent="azure_network_interfaces",
)
_PORT_RANGE = re.compile(r"^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$")
MAX_PORT = 65535


def parse_port_range(value: str) -> tuple[int | None, int | None]:
    """`*` -> (0, 65535), `22` -> (22, 22), `20-25` -> (20, 25); anything else -> (None, None)."""
    text = value.strip()
    if text in ("*", ""):
        return 0, MAX_PORT
    match = _PORT_RANGE.match(text)
    if match is None:
        return None, None
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) is not None else low
    if low > high or high > MAX_PORT:
        return None, None
    return low, high


def _values(single: Any, many: Any) -> list[str]:
    """A rule's field given as one value and/or a list, deduplicated, empty strings dropped."""
    values = [single] if isinstance(single, str) else []
    values += [v for v in (many or []) if isinstance(v, str)]
    return list(dict.fromkeys(v for v in values if v.strip()))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def transform_rule_rows(nsg: Row, rule: Mapping[str, Any], *, is_default: bool) -> list[Row]:
    """One NSG rule as its rows (source prefix or ASG x destination port range)."""
    props = rule.get("properties") or {}
    prefixes = _values(props.get("sourceAddressPrefix"), props.get("sourceAddressPrefixes"))
    sources: list[tuple[str | None, str | None]] = [(p, None) for p in prefixes]
    sources += [
        (None, str(g.get("id")))
        for g in props.get("sourceApplicationSecurityGroups") or []
        if isinstance(g, Mapping) and g.get("id")
    ]
    ports = _values(props.get("destinationPortRange"), props.get("destinationPortRanges")) or ["*"]
    priority = props.get("priority")
    rows: list[Row] = []
    for prefix, asg in sources or [(None, None)]:
        for port_range in ports:
            low, high = parse_port_range(port_range)
            row: Row = {
                "subscription_id": nsg["subscription_id"],
                "nsg_id": nsg["id"],
                "nsg_name": nsg["name"],
                "location": nsg["location"],
                "rule_id": rule.get("id"),
                "rule_name": rule.get("name"),
                "is_default": is_default,
                "direction": props.get("direction"),
                "access": props.get("access"),
                "protocol": props.get("protocol"),
                "priority": _int(priority),
                "source_prefix": prefix,
                "source_asg_id": asg,
                "destination_port_range": port_range,
                "from_port": low,
                "to_port": high,
                "description": props.get("description"),
            }
            rows.append(with_ids(row, RULE_KEY, nsg))
    return rows


def transform_security_group(subscription_id: str, item: Mapping[str, Any]) -> Rows:
    """An NSG (REST JSON of Network Security Groups - List All) and its split rule rows."""
    props = item.get("properties") or {}
    nsg: Row = with_ids(
        {
            "subscription_id": subscription_id,
            "id": item.get("id"),
            "location": item.get("location"),
            "properties": props,
            "tags": item.get("tags") or {},
            "etag": item.get("etag"),
            "name": item.get("name"),
            "type": item.get("type"),
        }
    )
    rules: list[Row] = []
    for key, is_default in (("securityRules", False), ("defaultSecurityRules", True)):
        for rule in props.get(key) or []:
            if isinstance(rule, Mapping):
                rules += transform_rule_rows(nsg, rule, is_default=is_default)
    # Two rules cannot share an id; identical rows (a prefix listed twice) are one row.
    unique = {r["_cq_id"]: r for r in rules}
    return {SECURITY_GROUPS: [nsg], SECURITY_RULES: list(unique.values())}


def transform_interface(subscription_id: str, item: Mapping[str, Any]) -> Rows:
    """A network interface (REST JSON) and its IP configurations as child rows."""
    props = item.get("properties") or {}
    nic: Row = with_ids(
        {
            "subscription_id": subscription_id,
            "extended_location": item.get("extendedLocation"),
            "id": item.get("id"),
            "location": item.get("location"),
            "properties": props,
            "tags": item.get("tags") or {},
            "etag": item.get("etag"),
            "name": item.get("name"),
            "type": item.get("type"),
        }
    )
    configs = [
        with_ids(
            {
                "subscription_id": subscription_id,
                "id": config.get("id"),
                "name": config.get("name"),
                "properties": config.get("properties") or {},
                "type": config.get("type"),
                "etag": config.get("etag"),
            },
            parent=nic,
        )
        for config in props.get("ipConfigurations") or []
        if isinstance(config, Mapping)
    ]
    return {INTERFACES: [nic], IP_CONFIGURATIONS: configs}


def _merge(out: Rows, part: Rows) -> Rows:
    for tbl, rows in part.items():
        out.setdefault(tbl, []).extend(rows)
    return out


def fetch_security_groups(sub: SubscriptionContext) -> Rows:
    """Every NSG of the subscription, with its rules split into rows."""
    out: Rows = {SECURITY_GROUPS: [], SECURITY_RULES: []}
    for item in list_raw(_clients.network(sub).network_security_groups.list_all):
        _merge(out, transform_security_group(sub.subscription_id, item))
    return out


def fetch_interfaces(sub: SubscriptionContext) -> Rows:
    """Every network interface of the subscription, with its IP configurations."""
    out: Rows = {INTERFACES: [], IP_CONFIGURATIONS: []}
    for item in list_raw(_clients.network(sub).network_interfaces.list_all):
        _merge(out, transform_interface(sub.subscription_id, item))
    return out


register(
    AzureResource(
        name="network.security_groups",
        service="network",
        tables=(SECURITY_GROUPS, SECURITY_RULES),
        permissions=("Microsoft.Network/networkSecurityGroups/read",),
        fetch=fetch_security_groups,
        description="Network security groups, their custom and default rules split into rows.",
    )
)
register(
    AzureResource(
        name="network.interfaces",
        service="network",
        tables=(INTERFACES, IP_CONFIGURATIONS),
        permissions=("Microsoft.Network/networkInterfaces/read",),
        fetch=fetch_interfaces,
        description="Network interfaces and their IP configurations (public IP, attached VM).",
    )
)
