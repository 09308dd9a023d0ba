"""Simulation cases: the JSON format `cwpp iam simulate` reads, and running them.

`{"policies": {"identity": [doc…], "resource": doc|null, "boundary": doc|null, "session": doc|null,
"scp": [[doc…] per level]|null}, "request": {"principal": arn|"anonymous", "role_arn": arn,
"action": "…", "resource": arn, "resource_account": "…", "context": {key: value or list}}}`,
optionally with `"name"`, `"cite"` (the AWS rule it exercises) and `"expect"` (the decision).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opencwpp.core.errors import CwppError
from opencwpp.iam.evaluator import evaluate
from opencwpp.iam.model import Decision, DecisionKind, PolicyError, PolicySet, Request


class CaseError(CwppError):
    """A simulation case file is unreadable or a case lacks a required key."""


@dataclass(frozen=True)
class SimCase:
    """One simulation case, parsed."""

    name: str
    cite: str | None
    expect: DecisionKind | None
    policies: PolicySet
    request: Request


def _get(obj: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in obj:
        raise CaseError(f"{where}: missing key {key!r}")
    value = obj[key]
    if not isinstance(value, kind):
        raise CaseError(f"{where}: key {key!r} has the wrong type ({type(value).__name__})")
    return value


def _optional(obj: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if obj.get(key) is None:
        return None
    return _get(obj, key, where, kind)


def parse_case(raw: Any, where: str, default_name: str) -> SimCase:
    """One case from its JSON value; CaseError names the place and the key."""
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: a case must be a JSON object")
    pol = _get(raw, "policies", where, dict)
    req = _get(raw, "request", where, dict)
    scp = _optional(pol, "scp", f"{where}.policies", list)
    if scp is not None and not all(isinstance(level, list) for level in scp):
        raise CaseError(f"{where}.policies: key 'scp' must be a list of levels (lists)")
    expect = _optional(raw, "expect", where, str)
    if expect is not None and expect not in {k.value for k in DecisionKind}:
        raise CaseError(f"{where}: key 'expect' must be Allow, ImplicitDeny or ExplicitDeny")
    try:
        policies = PolicySet(
            identity=_optional(pol, "identity", f"{where}.policies", list) or (),
            resource=_optional(pol, "resource", f"{where}.policies", (dict, str)),
            boundary=_optional(pol, "boundary", f"{where}.policies", (dict, str)),
            session=_optional(pol, "session", f"{where}.policies", (dict, str)),
            scp=scp,
        )
    except PolicyError as err:
        raise CaseError(f"{where}: {err}") from None
    request = Request(
        principal=_get(req, "principal", f"{where}.request", str),
        action=_get(req, "action", f"{where}.request", str),
        resource=_get(req, "resource", f"{where}.request", str),
        resource_account=_optional(req, "resource_account", f"{where}.request", str),
        role_arn=_optional(req, "role_arn", f"{where}.request", str),
        context=_optional(req, "context", f"{where}.request", dict) or {},
    )
    return SimCase(
        name=str(raw.get("name") or default_name),
        cite=_optional(raw, "cite", where, str),
        expect=DecisionKind(expect) if expect else None,
        policies=policies,
        request=request,
    )


def load_cases(path: Path) -> list[SimCase]:
    """Every case of one file (a case or a list of cases)."""
    return load_case_file(path)[0]


def load_case_file(path: Path) -> tuple[list[SimCase], bool]:
    """Every case of one file, and whether the file held a list (else one case)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CaseError(f"{path}: cannot read: {err.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CaseError(f"{path}: not valid JSON: {err}") from None
    items = data if isinstance(data, list) else [data]
    cases = [
        parse_case(item, f"{path} case {i}", f"{path.stem}[{i}]") for i, item in enumerate(items)
    ]
    return cases, isinstance(data, list)


def run_case(case: SimCase, where: str = "") -> Decision:
    """Evaluates a case; a request AWS would reject becomes a CaseError naming the case."""
    try:
        return evaluate(case.policies, case.request)
    except PolicyError as err:
        raise CaseError(f"{where or case.name}: {err}") from None
