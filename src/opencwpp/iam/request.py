"""The request, prepared once: who the caller is and the context with its default global keys."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opencwpp.iam.matching import Caller
from opencwpp.iam.model import PolicyError, Request
from opencwpp.iam.variables import Lookup

_ACCOUNT = re.compile(r"^\d{12}$")
_ROLE_SESSION_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithsaml",
        "sts:assumerolewithwebidentity",
        "sts:tagsession",
        "sts:setsourceidentity",
        "sts:setcontext",
    }
)


def caller_of(request: Request) -> Caller:
    """Classifies the principal string; PolicyError when it is not one AWS could send."""
    text = request.principal
    if text in ("anonymous", "*"):
        return Caller("anonymous", None, None, None)
    if not text.startswith("arn:"):
        if text.endswith(".amazonaws.com") or text.endswith(".amazonaws.com.cn"):
            return Caller("service", text, None, None)
        if _ACCOUNT.match(text):
            return Caller("root", f"arn:aws:iam::{text}:root", None, text)
        raise PolicyError(f"principal {text!r} is not an ARN, a service principal or anonymous")
    parts = text.split(":", 5)
    if len(parts) != 6:
        raise PolicyError(f"principal {text!r} is not a valid ARN")
    _, partition, service, _, account, resource = parts
    if service == "iam" and resource == "root":
        return Caller("root", text, None, account)
    if service == "iam" and resource.startswith("user/"):
        return Caller("user", text, None, account)
    if service == "iam" and resource.startswith("role/"):
        return Caller("role", None, text, account)
    if service == "sts" and resource.startswith("assumed-role/") and resource.count("/") >= 2:
        role = request.role_arn or f"arn:{partition}:iam::{account}:role/{resource.split('/')[1]}"
        return Caller("session", text, role, account)
    if service == "sts" and resource.startswith("federated-user/"):
        return Caller("federated", text, None, account)
    raise PolicyError(f"principal {text!r} is not a user, role, role session or root ARN")


def _values(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
        else:
            raise PolicyError(f"context value {item!r} is not a string, number or boolean")
    return tuple(out)


_PRINCIPAL_TYPE = {
    "user": "User",
    "session": "AssumedRole",
    "role": "AssumedRole",
    "root": "Account",
    "federated": "FederatedUser",
    "anonymous": "Anonymous",
}


def context_of(
    request: Request, caller: Caller, resource_account: str | None
) -> dict[str, tuple[str, ...]]:
    """The request context with lower-cased keys, plus the global keys AWS always sets."""
    context = {str(k).lower(): _values(v) for k, v in request.context.items()}
    defaults: dict[str, str | None] = {
        "aws:principalarn": caller.role if caller.kind in ("session", "role") else caller.direct,
        "aws:principalaccount": caller.account,
        "aws:principaltype": _PRINCIPAL_TYPE.get(caller.kind),
        "aws:resourceaccount": resource_account,
    }
    if caller.kind == "user" and caller.direct:
        defaults["aws:username"] = caller.direct.rsplit("/", 1)[-1]
    if caller.kind == "service":
        defaults["aws:principalservicename"] = caller.direct
    if caller.kind == "anonymous":
        defaults["aws:principalarn"] = None
    for key, value in defaults.items():
        if value is not None and key not in context:
            context[key] = (value,)
    return context


def resource_policy_required(action_lower: str, resource: str) -> str | None:
    """The resource-policy kind that must itself allow (KMS key policy, role trust policy)."""
    if action_lower.startswith("kms:") and ":kms:" in resource and ":key/" in resource:
        return "KMS key policy"
    if action_lower in _ROLE_SESSION_ACTIONS and ":role/" in resource:
        return "role trust policy"
    return None


def mapping_lookup(context: Mapping[str, tuple[str, ...]]) -> Lookup:
    """A variable lookup over the context: single-valued keys only."""

    def lookup(key: str) -> str | None:
        values = context.get(key)
        return values[0] if values is not None and len(values) == 1 else None

    return lookup
