"""The service control policies over each account, from the Organizations tables of the lake.

An account's SCP levels run from the root down its OUs to the account itself; each level is the
SCPs attached there, and every level must allow an action. The management account is never
restricted by SCPs, so it gets none. An account whose chain to the root cannot be followed
(its parent was not collected) gets none either, with a warning: guessing would invent denies
or hide them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from opencwpp.iam.model import Document
from opencwpp.lake import Lake

SCP_TYPE = "SERVICE_CONTROL_POLICY"
_TABLES = (
    "aws_organizations",
    "aws_organizations_accounts",
    "aws_organizations_account_parents",
    "aws_organizations_organizational_unit_parents",
    "aws_organizations_policies",
    "cwpp_aws_organizations_policy_targets",
)
_MAX_DEPTH = 10  # Organizations nests OUs at most five deep under the root


def _document(value: Any) -> Document | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, Mapping) else None


def _chain(account_id: str, parent_of: Mapping[str, str]) -> list[str] | None:
    """Target ids from the root down to the account, or None when a parent is unknown."""
    chain = [account_id]
    node = account_id
    for _ in range(_MAX_DEPTH):
        parent = parent_of.get(node)
        if parent is None:
            return None
        chain.append(parent)
        if parent.startswith("r-"):
            return list(reversed(chain))
        node = parent
    return None


def organization_accounts(lake: Lake) -> set[str]:
    """Every account of the collected Organization (any status): not foreign to each other."""
    if "aws_organizations_accounts" not in lake.table_names():
        return set()
    rows = lake.query("SELECT DISTINCT id FROM aws_organizations_accounts WHERE 1 = ?", [1])
    return {str(r["id"]) for r in rows if r["id"]}


def load_scp_levels(lake: Lake) -> tuple[dict[str, list[list[Document]]], list[str]]:
    """(SCP levels per member account id, warnings), from the collected Organization."""
    present = lake.table_names()
    if not all(t in present for t in _TABLES):
        return {}, []
    management = {
        str(r["master_account_id"])
        for r in lake.query("SELECT master_account_id FROM aws_organizations WHERE 1 = ?", [1])
        if r["master_account_id"]
    }
    parent_of: dict[str, str] = {}
    for table in (
        "aws_organizations_account_parents",
        "aws_organizations_organizational_unit_parents",
    ):
        for row in lake.query(f"SELECT id, parent_id FROM {table} WHERE 1 = ?", [1]):
            parent_of[str(row["id"])] = str(row["parent_id"])
    documents: dict[str, Document] = {}
    for row in lake.query(
        "SELECT id, content FROM aws_organizations_policies WHERE type = ?", [SCP_TYPE]
    ):
        doc = _document(row["content"])
        if doc is not None:
            documents[str(row["id"])] = doc
    attached: dict[str, list[str]] = defaultdict(list)
    for row in lake.query(
        "SELECT DISTINCT policy_id, target_id FROM cwpp_aws_organizations_policy_targets "
        "WHERE 1 = ? ORDER BY policy_id",
        [1],
    ):
        if str(row["policy_id"]) in documents:
            attached[str(row["target_id"])].append(str(row["policy_id"]))
    levels: dict[str, list[list[Document]]] = {}
    warnings: list[str] = []
    accounts = lake.query(
        "SELECT DISTINCT id FROM aws_organizations_accounts WHERE status = ? ORDER BY id",
        ["ACTIVE"],
    )
    for row in accounts:
        account = str(row["id"])
        if account in management:
            continue
        chain = _chain(account, parent_of)
        if chain is None:
            warnings.append(f"SCPs of account {account} not applied: its OU path is incomplete")
            continue
        levels[account] = [[documents[p] for p in attached.get(t, [])] for t in chain]
    return levels, warnings
