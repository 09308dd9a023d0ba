"""Helpers shared by the API Gateway collectors: ARNs, Go-style JSON keys, secret redaction.

API Gateway's REST API (v1) answers in camelCase; CloudQuery stores the Go SDK's field names
(PascalCase) in its JSON columns. Structures are converted field by field, but the keys of maps
(request parameters, templates by content type, method settings by path, stage variables, tags)
are the user's and are kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._secrets import (
    Exposure,
    classify,
    fingerprint,
    redact_environment,
    scan_text,
)
from opencwpp.collect.base import partition_of

# Fields whose value is a map keyed by user data, not a structure.
_MAPS = frozenset(
    {
        "integrationResponses",
        "methodResponses",
        "methodSettings",
        "requestModels",
        "requestParameters",
        "requestTemplates",
        "resourceMethods",
        "responseModels",
        "responseParameters",
        "responseTemplates",
        "stageVariableOverrides",
        "tags",
        "variables",
    }
)


def go_keys(value: Any, *, is_map: bool = False) -> Any:
    """`value` with structure keys in PascalCase; map keys (see `_MAPS`) left alone."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            converted = name if is_map else name[:1].upper() + name[1:]
            out[converted] = go_keys(item, is_map=not is_map and name in _MAPS)
        return out
    if isinstance(value, list):
        return [go_keys(v) for v in value]
    return value


def apigateway_arn(region: str, path: str) -> str:
    """An API Gateway resource ARN, as CloudQuery builds it (`arn:aws:apigateway:r::/path`)."""
    return f"arn:{partition_of(region)}:apigateway:{region}::{path}"


def redact_variables(
    variables: Mapping[str, Any] | None, location: str
) -> tuple[dict[str, str] | None, list[Exposure]]:
    """Stage variables (often backend credentials) as fingerprints; None stays None."""
    if variables is None:
        return None, []
    return redact_environment(variables, location)


def redact_integration(
    integration: Mapping[str, Any] | None, location: str
) -> tuple[dict[str, Any] | None, list[Exposure]]:
    """A method integration with static parameter values and mapping templates hashed.

    A static value (`'literal'`) mapped into a backend request header or query string is how
    backend API keys get injected; mapping templates may embed them too.
    """
    if integration is None:
        return None, []
    clean = dict(integration)
    found: list[Exposure] = []
    parameters = dict(clean.get("requestParameters") or {})
    for name, value in parameters.items():
        text = str(value)
        if text.startswith("'"):
            parameters[name] = fingerprint(text)
            kind = classify(text.strip("'"), str(name))
            if kind is not None:
                where = f"{location}.requestParameters.{name}"
                found.append(Exposure(where, kind, parameters[name]))
    if "requestParameters" in clean:
        clean["requestParameters"] = parameters
    templates = dict(clean.get("requestTemplates") or {})
    for content_type, template in templates.items():
        text = str(template or "")
        found.extend(scan_text(text, f"{location}.requestTemplates.{content_type}"))
        templates[content_type] = fingerprint(text)
    if "requestTemplates" in clean:
        clean["requestTemplates"] = templates
    return clean, found
