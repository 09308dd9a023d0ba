"""Each tool's output read into one shape: (check, status, identifiers, region, account).

Identifiers are every string that names the judged resource in that tool's output (ARN, id,
name, Name tag; for ScoutSuite also the ids of the objects on the finding's path, such as the VPC
of a subnet), so matching against the ground truth does not depend on how a tool spells it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Names too generic to identify anything (every VPC has a "default" security group).
_GENERIC = frozenset({"", "default", "none", "null", "true", "false", "0"})


@dataclass(frozen=True, slots=True)
class ToolFinding:
    """One judgement of one tool on one resource."""

    check: str
    status: str  # FAIL, PASS, or anything else the tool says (MANUAL, NOT_ASSESSED ...)
    identifiers: frozenset[str]
    region: str
    account: str
    label: str  # how the tool names the resource, for people

    @property
    def failed(self) -> bool:
        """Whether the tool flags the resource."""
        return self.status == "FAIL"


def _ids(*values: Any) -> frozenset[str]:
    out = set()
    for value in values:
        if isinstance(value, str) and value.strip().lower() not in _GENERIC:
            out.add(value.strip().lower())
    return frozenset(out)


def read_ours(path: Path) -> list[ToolFinding]:
    """Reads `cwpp report -f json` output."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for f in data["findings"]:
        r = f["resource"]
        tags = r.get("tags") or {}
        out.append(
            ToolFinding(
                check=f["check_id"],
                status=f["status"],
                identifiers=_ids(r.get("uid"), r.get("name"), tags.get("Name")),
                region=r.get("region") or "",
                account=r.get("account_id") or "",
                label=r.get("name") or r.get("uid") or "",
            )
        )
    return out


def read_prowler(path: Path) -> list[ToolFinding]:
    """Reads Prowler's OCSF JSON output (`--output-formats json-ocsf`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for f in data:
        account = str(f.get("cloud", {}).get("account", {}).get("uid", ""))
        for r in f.get("resources") or [{}]:
            meta = (r.get("data") or {}).get("metadata") or {}
            meta = meta if isinstance(meta, dict) else {}
            out.append(
                ToolFinding(
                    check=f["metadata"]["event_code"],
                    status=f.get("status_code", ""),
                    identifiers=_ids(
                        r.get("uid"),
                        r.get("name"),
                        meta.get("arn"),
                        meta.get("id"),
                        meta.get("name"),
                    ),
                    region=r.get("region") or f.get("cloud", {}).get("region") or "",
                    account=account,
                    label=r.get("name") or r.get("uid") or "",
                )
            )
    return out


def load_scoutsuite_results(path: Path) -> dict[str, Any]:
    """Reads ScoutSuite's results file (JavaScript: `scoutsuite_results = {...}`)."""
    text = path.read_text(encoding="utf-8")
    parsed: dict[str, Any] = json.loads(text[text.index("{") :])
    return parsed


def _walk(root: dict[str, Any], path: str) -> tuple[set[str], str, str]:
    """Identifiers of the objects along a ScoutSuite item path, its region and a label."""
    node: Any = root
    ids: set[str] = set()
    region, label = "", ""
    parts = path.split(".")
    for i, part in enumerate(parts):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            break
        if i > 0 and parts[i - 1] == "regions":
            region = part
        elif isinstance(node, dict) and i > 0 and parts[i - 1] != "regions":
            found = _ids(node.get("arn"), node.get("name"), node.get("id"), node.get("ARN"))
            if found and i >= 2 and not part.isdigit():
                ids |= found | _ids(part)
                label = str(node.get("name") or node.get("id") or part)
    return ids, region, label


def read_scoutsuite(path: Path) -> list[ToolFinding]:
    """Reads ScoutSuite's results: every flagged item of every finding is a FAIL."""
    data = load_scoutsuite_results(path)
    services = data.get("services", {})
    account = str(data.get("account_id", ""))
    out = []
    for name, service in services.items():
        for rule, finding in (service.get("findings") or {}).items():
            for item in finding.get("items") or []:
                ids, region, label = _walk(services, item)
                out.append(
                    ToolFinding(
                        check=rule,
                        status="FAIL",
                        identifiers=frozenset(ids),
                        region=region,
                        account=account,
                        label=label or item.removeprefix(f"{name}."),
                    )
                )
    return out
