"""Azure Activity Log records as lake rows: typed columns, secrets redacted, the record kept.

Two shapes are read: the resource-log schema a diagnostic setting writes to a storage account
(`insights-activity-logs/…/PT1H.json`, one JSON record per line; Key Vault's AuditEvent logs
share it), and the REST / `az monitor activity-log list` shape (`eventTimestamp`,
`operationName.value`, `caller`, `eventDataId`). A record's id is its `eventDataId` when it has
one, else a hash of correlation id, operation, time, result and resource, so ingesting the same
file twice adds nothing. Request and response bodies can carry passwords or listed keys: values
under secret-looking names are replaced before anything is stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opencwpp.core.text import json_loads

REDACTED = "[redacted]"
# Names whose string values are secrets anywhere, and more names that are inside a body
# (a Key Vault secret's `value`, the `keys` a listKeys call answers).
_SECRET_KEY = re.compile(
    r"(password|passwd|secret|connectionstring|token|accountkey|primarykey|secondarykey|"
    r"sharedkey|sastoken|credential)",
    re.IGNORECASE,
)
_BODY_SECRET_KEY = re.compile(r"^(value|keys?|key[12]|sas)$", re.IGNORECASE)
_BODY_KEYS = frozenset({"requestbody", "responsebody"})
_CLAIMS = (
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "name",
    "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "appid",
)
_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


class RecordError(ValueError):
    """A record lacks what every Activity Log record has (a time and an operation)."""


def _value(item: Any) -> str | None:
    """A plain value, or the `value` of a localizable `{value, localizedValue}` pair."""
    if isinstance(item, Mapping):
        item = item.get("value")
    return None if item is None or item == "" else str(item)


def redact(item: Any, in_body: bool = False) -> Any:
    """The item with string values under secret-looking keys replaced; bodies parsed first."""
    if isinstance(item, Mapping):
        out: dict[str, Any] = {}
        for key, value in item.items():
            name = str(key)
            secret = _SECRET_KEY.search(name) or (in_body and _BODY_SECRET_KEY.match(name))
            if name.lower() in _BODY_KEYS:
                out[name] = _redact_body(value)
            elif secret and isinstance(value, str | int | float) and not isinstance(value, bool):
                out[name] = REDACTED
            elif secret and in_body and isinstance(value, list):
                out[name] = [REDACTED if isinstance(v, str) else redact(v, True) for v in value]
            else:
                out[name] = redact(value, in_body)
        return out
    if isinstance(item, list):
        return [redact(v, in_body) for v in item]
    return item


def _redact_body(body: Any) -> Any:
    """A request or response body (often JSON text) with its secrets redacted."""
    if isinstance(body, str):
        try:
            parsed = json_loads(body)
        except json.JSONDecodeError:
            return REDACTED if _SECRET_KEY.search(body) else body
        return json.dumps(redact(parsed, True), separators=(",", ":"))
    return redact(body, True)


def parse_time(text: str) -> datetime:
    """An ISO-8601 time (Azure writes 7 fractional digits and `Z`) as naive UTC."""
    value = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise RecordError(f"bad time {text[:40]!r}") from err
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _caller(record: Mapping[str, Any]) -> str | None:
    caller = _value(record.get("caller"))
    if caller:
        return caller
    identity: Mapping[str, Any] = (
        record["identity"] if isinstance(record.get("identity"), Mapping) else {}
    )
    # Activity Log: identity.claims; Key Vault AuditEvent: identity.claim; REST: claims.
    claims = record.get("claims") or identity.get("claims") or identity.get("claim") or {}
    if isinstance(claims, Mapping):
        for key in _CLAIMS:
            if claims.get(key):
                return str(claims[key])
    evidence = (identity.get("authorization") or {}).get("evidence") or {}
    return _value(evidence.get("principalId")) if isinstance(evidence, Mapping) else None


def record_id(record: Mapping[str, Any], time: datetime, operation: str, result: str) -> str:
    """`eventDataId`, else a hash of what tells two records of one operation apart."""
    given = _value(record.get("eventDataId"))
    if given:
        return given.lower()
    parts = [
        _value(record.get("correlationId")) or "",
        operation.lower(),
        time.isoformat(),
        result.lower(),
        (_value(record.get("resourceId")) or "").lower(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def to_row(record: Mapping[str, Any], source: str) -> dict[str, Any]:
    """One record as a `cwpp_azure_activity_events` row (redacted; raw record kept)."""
    time_text = _value(record.get("time")) or _value(record.get("eventTimestamp"))
    operation = _value(record.get("operationName"))
    if not time_text or not operation:
        raise RecordError("record without time or operationName")
    time = parse_time(time_text)
    result = _value(record.get("resultType")) or _value(record.get("status")) or ""
    resource = _value(record.get("resourceId")) or ""
    match = _SUBSCRIPTION.match(resource)
    subscription = _value(record.get("subscriptionId")) or (match.group(1) if match else None)
    clean: dict[str, Any] = redact(record)
    properties = _mapping(clean.get("properties"))
    http = _mapping(record.get("httpRequest"))
    authorization = clean.get("authorization") or _mapping(clean.get("identity")).get(
        "authorization"
    )
    return {
        "record_id": record_id(record, time, operation, result),
        "event_time": time,
        "operation_name": operation,
        "category": _value(record.get("category")),
        "result_type": result or None,
        "result_signature": _value(record.get("resultSignature"))
        or _value(record.get("subStatus")),
        "caller": _caller(record),
        "caller_ip_address": _value(record.get("callerIpAddress"))
        or _value(http.get("clientIpAddress")),
        "resource_id": resource or None,
        "subscription_id": subscription.lower() if subscription else None,
        "correlation_id": _value(record.get("correlationId")),
        "level": _value(record.get("level")),
        "request_body": _body(properties, "requestbody"),
        "authorization": authorization if isinstance(authorization, Mapping) else None,
        "properties": properties or None,
        "raw": clean,
        "source": source,
    }


def _mapping(item: Any) -> Mapping[str, Any]:
    return item if isinstance(item, Mapping) else {}


def _body(properties: Mapping[str, Any], name: str) -> str | None:
    for key, value in properties.items():
        if str(key).lower() == name and value is not None:
            return value if isinstance(value, str) else json.dumps(value)
    return None
