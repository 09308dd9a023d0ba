"""Policy documents split into rows at load, so checks never walk JSON arrays.

Every IAM-style policy the collectors fetch (bucket policies, managed policy default versions,
inline user/group/role policies, ...) becomes rows in three derived tables:

- `cwpp_aws_policy_statements`: one row per statement (effect, sid, the statement as JSON);
- `cwpp_aws_policy_statement_values`: one row per value of Action, NotAction, Resource,
  NotResource, Principal and NotPrincipal (with the principal type: AWS, Service, Federated,
  CanonicalUser, or `*` for a bare `"Principal": "*"`);
- `cwpp_aws_policy_statement_conditions`: one row per condition operator, key and value.

Rows carry `source_table` and `source_arn` (the resource or policy the document belongs to),
so a check joins them back to the inventory table it judges, and the region of that resource.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opencwpp.lake.schema import INT64, JSON, UUID, Table, cq_id, table

STATEMENTS = table(
    "cwpp_aws_policy_statements",
    [
        "account_id",
        "region",
        "source_table",
        "source_arn",
        "policy_name",
        ("statement_index", INT64),
        "sid",
        "effect",
        ("statement", JSON),
    ],
    cq_id_from=["source_table", "source_arn", "policy_name", "statement_index"],
    partition_by="source_table",
    indexes=[("source_arn",)],
    description="One row per statement of every collected policy document.",
)
STATEMENT_VALUES = table(
    "cwpp_aws_policy_statement_values",
    [
        "account_id",
        "region",
        "source_table",
        "source_arn",
        "policy_name",
        ("statement_index", INT64),
        ("statement_id", UUID),
        "element",
        "principal_type",
        "value",
    ],
    cq_id_from=["statement_id", "element", "principal_type", "value"],
    partition_by="source_table",
    indexes=[("statement_id",), ("source_arn",)],
    description="One row per Action/NotAction/Resource/NotResource/Principal/NotPrincipal value.",
)
STATEMENT_CONDITIONS = table(
    "cwpp_aws_policy_statement_conditions",
    [
        "account_id",
        "region",
        "source_table",
        "source_arn",
        "policy_name",
        ("statement_index", INT64),
        ("statement_id", UUID),
        "operator",
        "condition_key",
        "value",
    ],
    cq_id_from=["statement_id", "operator", "condition_key", "value"],
    partition_by="source_table",
    indexes=[("statement_id",), ("source_arn",)],
    description="One row per condition operator, key (lower-cased, as AWS compares) and value.",
)
POLICY_TABLES: tuple[Table, ...] = (STATEMENTS, STATEMENT_VALUES, STATEMENT_CONDITIONS)

_LIST_ELEMENTS = ("Action", "NotAction", "Resource", "NotResource")
_PRINCIPAL_ELEMENTS = ("Principal", "NotPrincipal")


def parse_document(document: Any) -> dict[str, Any] | None:
    """A policy document as a dict, from a dict or JSON text (URL-decoding is the caller's)."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return None
    return document if isinstance(document, dict) else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_values(principal: Any) -> list[tuple[str, str]]:
    if principal == "*":
        return [("*", "*")]
    if not isinstance(principal, Mapping):
        return []
    return [(str(kind), str(v)) for kind, vals in principal.items() for v in _as_list(vals)]


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[3] or None if len(parts) == 6 and parts[0] == "arn" else None


def _condition_value(value: Any) -> str:
    # JSON booleans become AWS's own spelling ("true"/"false"), as policies usually write them.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def split_policy(
    document: Any,
    *,
    account_id: str,
    source_table: str,
    source_arn: str,
    policy_name: str = "",
) -> dict[Table, list[dict[str, Any]]]:
    """Rows of the three statement tables for one policy document."""
    out: dict[Table, list[dict[str, Any]]] = {t: [] for t in POLICY_TABLES}
    doc = parse_document(document)
    if doc is None:
        return out
    base = {
        "account_id": account_id,
        # The region of the resource the policy belongs to (None for global ones: S3, IAM), so
        # that a regional sync replaces only its own region's statements.
        "region": _arn_region(source_arn),
        "source_table": source_table,
        "source_arn": source_arn,
        "policy_name": policy_name,
    }
    for index, stmt in enumerate(_as_list(doc.get("Statement"))):
        if not isinstance(stmt, Mapping):
            continue
        row = {
            **base,
            "statement_index": index,
            "sid": stmt.get("Sid"),
            "effect": stmt.get("Effect"),
            "statement": dict(stmt),
        }
        statement_id = cq_id(row, STATEMENTS.cq_id_from)
        row["_cq_id"] = statement_id
        out[STATEMENTS].append(row)
        child = {**base, "statement_index": index, "statement_id": statement_id}
        # AWS accepts a value listed twice (AWS's own ReadOnlyAccess does it); a row id is made
        # of the value, so each distinct value is one row.
        for element in _LIST_ELEMENTS:
            for text in dict.fromkeys(str(v) for v in _as_list(stmt.get(element))):
                out[STATEMENT_VALUES].append(
                    {**child, "element": element, "principal_type": None, "value": text}
                )
        for element in _PRINCIPAL_ELEMENTS:
            for kind, value in dict.fromkeys(_principal_values(stmt.get(element))):
                out[STATEMENT_VALUES].append(
                    {**child, "element": element, "principal_type": kind, "value": value}
                )
        conditions = stmt.get("Condition")
        if isinstance(conditions, Mapping):
            for operator, pairs in conditions.items():
                if not isinstance(pairs, Mapping):
                    continue
                for key, values in pairs.items():
                    for text in dict.fromkeys(_condition_value(v) for v in _as_list(values)):
                        out[STATEMENT_CONDITIONS].append(
                            {
                                **child,
                                "operator": str(operator),
                                "condition_key": str(key).lower(),
                                "value": text,
                            }
                        )
    return out
