"""Who can access one resource, for its dashboard page: the IAM engine's who-can, and exposure.

As `cwpp iam who-can` does: the stored effective-access rows (`cwpp iam effective`) first; when
there are none, the estate is loaded from the lake and evaluated now for the actions that matter
on this kind of resource. "Public" comes from the exposure analysis (`cwpp iam exposure`
findings), or is evaluated now from the resource's policy when those findings are absent.
"""

from __future__ import annotations

import json
from typing import Any

from opencwpp.iam.catalog import sensitive_actions
from opencwpp.iam.effective import ACTIONS_BY_KIND, PASS_ROLE, TABLE, AccessRow, who_can
from opencwpp.iam.estate import Estate
from opencwpp.iam.exposure import foreign_access
from opencwpp.iam.exposure_findings import CROSS_ACCOUNT, PUBLIC
from opencwpp.iam.lake_policies import load_estate
from opencwpp.iam.model import PolicyError
from opencwpp.lake.lake import Lake

ROLE_ACTIONS = ("sts:AssumeRole", PASS_ROLE)
MAX_LIVE_ACTIONS = 12  # evaluated now per page view: the most telling sensitive actions
POLICY_SERVICES = frozenset({"s3", "kms", "sqs", "sns", "secretsmanager", "lambda", "ecr", "efs"})


def _json(value: Any) -> Any:
    while isinstance(value, str):  # DuckDB gives JSON text, PostgreSQL the value
        value = json.loads(value)
    return value


def _service(uid: str) -> str:
    parts = uid.split(":")
    return parts[2] if len(parts) >= 6 and parts[0] == "arn" else ""


def is_role(uid: str) -> bool:
    """Whether the ARN names an IAM role."""
    return _service(uid) == "iam" and ":role/" in uid


def _probes(uid: str) -> list[str]:
    """The ARNs access is computed on: an S3 bucket's objects are `bucket/*`."""
    return [uid, f"{uid}/*"] if uid.startswith("arn:aws:s3:::") and "/" not in uid else [uid]


def stored_rows(lake: Lake, uid: str) -> list[AccessRow]:
    """The effective-access rows stored for this resource (all actions)."""
    if not lake.table_exists(TABLE.name):
        return []
    probes = _probes(uid)
    marks = ", ".join("?" for _ in probes)
    rows = lake.query(
        f'SELECT principal_arn, action, resource_arn, decision, via, account_id FROM "{TABLE.name}"'
        f" WHERE resource_arn IN ({marks}) ORDER BY principal_arn, action",
        probes,
    )
    return [
        AccessRow(
            str(r["principal_arn"]),
            str(r["action"]),
            str(r["resource_arn"]),
            str(r["decision"]),
            list(_json(r["via"]) or []),
            str(r["account_id"]),
        )
        for r in rows
    ]


def _actions(estate: Estate, uid: str) -> list[tuple[str, str]]:
    """(action, target ARN) pairs worth evaluating for this resource."""
    if is_role(uid):
        return [(a, uid) for a in ROLE_ACTIONS]
    for target in estate.targets:
        if target.arn in _probes(uid):
            return [(a, target.arn) for a in ACTIONS_BY_KIND.get(target.kind, ())]
    policy = estate.policy_for(uid)
    if policy is not None:
        return [(a, uid) for a in sensitive_actions(policy.kind)[:MAX_LIVE_ACTIONS]]
    return []


def _live_exposure(estate: Estate, uid: str) -> list[dict[str, Any]]:
    policy = estate.policy_for(uid)
    role = estate.principals.get(uid)
    document = policy.document if policy else (role.trust if role else None)
    if document is None:
        return []
    account = policy.account_id if policy else (role.account_id if role else "")
    found = []
    for probe in [uid, f"{uid}/cwpp-exposure-probe"] if _service(uid) == "s3" else [uid]:
        try:
            found += foreign_access(dict(document), probe, account)
        except PolicyError as err:
            return [{"who": "not evaluated", "actions": [], "statements": [str(err)]}]
    merged: dict[str, dict[str, Any]] = {}
    for access in found:
        entry = merged.setdefault(access.who, {"who": access.who, "actions": [], "statements": []})
        entry["actions"] += [a for a in access.actions if a not in entry["actions"]]
        entry["statements"] += [s for s in access.statements if s not in entry["statements"]]
    return list(merged.values())


def _stored_exposure(lake: Lake, uid: str) -> list[dict[str, Any]] | None:
    """The exposure findings' accesses for this resource; None when exposure never ran."""
    if not lake.table_exists("cwpp_findings"):
        return None
    ran = lake.query(
        "SELECT count(*) AS n FROM cwpp_findings WHERE check_id IN (?, ?)", [PUBLIC, CROSS_ACCOUNT]
    )
    if not int(ran[0]["n"]):
        return None
    rows = lake.query(
        "SELECT evidence FROM cwpp_findings WHERE resource_uid = ? AND status = ? "
        "AND check_id IN (?, ?)",
        [uid, "FAIL", PUBLIC, CROSS_ACCOUNT],
    )
    out = []
    for row in rows:
        evidence = _json(row["evidence"]) or {}
        out += [a for a in evidence.get("accesses", []) if isinstance(a, dict)]
    return out


def _by_principal(rows: list[AccessRow]) -> list[dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = grouped.setdefault(
            row.principal_arn,
            {"principal": row.principal_arn, "allow": [], "deny": [], "statements": []},
        )
        entry["allow" if row.decision == "Allow" else "deny"].append(row.action)
        for ref in row.via:
            label = f"{ref.get('effect', '')} {ref.get('policy', '')} #{ref.get('statement', '')}"
            if label not in entry["statements"]:
                entry["statements"].append(label)
    return sorted(grouped.values(), key=lambda e: (not e["allow"], e["principal"]))


def resource_access(lake: Lake, uid: str) -> dict[str, Any]:
    """Who may do what on `uid` (principals with allowed and denied actions) and who outside."""
    rows = stored_rows(lake, uid)
    source = "stored" if rows else ""
    estate: Estate | None = None
    relevant = is_role(uid) or _service(uid) in POLICY_SERVICES
    if not rows and relevant:
        estate = load_estate(lake)
        pairs = _actions(estate, uid)
        rows = [r for action, target in pairs for r in who_can(estate, action, target)]
        source = "evaluated now" if pairs else ""
    exposure = _stored_exposure(lake, uid)
    if exposure is None and relevant:
        estate = estate or load_estate(lake)
        exposure = _live_exposure(estate, uid)
    exposure = exposure or []
    public = [e for e in exposure if not str(e.get("who", "")).startswith("account ")]
    return {
        "source": source,
        "principals": _by_principal(rows),
        "public": public,
        "cross_account": [e for e in exposure if str(e.get("who", "")).startswith("account ")],
        "is_public": bool(public),
        "assessed": bool(source) or relevant,
    }
