"""Guard rails of the Azure collector: expected errors, credentials, the read-only transport."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.core.rest import HttpRequest

from opencwpp.collect.azure.base import (
    ProviderNotRegistered,
    ReadOnlyViolation,
    not_assessed_reason,
)
from opencwpp.collect.azure.context import (
    ReadOnlyTransport,
    credentials_error,
    parse_subscription_ids,
)
from opencwpp.core.errors import CredentialsError, UsageError

SUB = "00000000-0000-0000-0000-000000000000"


def _response_error(status: int, code: str) -> HttpResponseError:
    response = SimpleNamespace(
        status_code=status,
        reason="Forbidden",
        headers={},
        text=lambda: json.dumps(
            {"error": {"code": code, "message": f"{code} happened\nsecond line"}}
        ),
        request=None,
    )
    error = HttpResponseError(response=response)  # type: ignore[arg-type]
    return error


def test_expected_errors_are_an_explicit_list() -> None:
    reason = not_assessed_reason(_response_error(403, "AuthorizationFailed"))
    assert reason is not None and reason.startswith("AuthorizationFailed (HTTP 403)")
    assert "second line" not in reason
    assert not_assessed_reason(ProviderNotRegistered("Microsoft.KeyVault")) == (
        "resource provider Microsoft.KeyVault not registered in the subscription"
    )
    missing = ResourceNotFoundError(message="gone")
    missing.status_code = 404
    assert not_assessed_reason(missing) is not None
    assert not_assessed_reason(_response_error(500, "InternalServerError")) is None
    assert not_assessed_reason(_response_error(400, "BadRequest")) is None
    assert not_assessed_reason(ServiceRequestError("no route")) is None
    assert not_assessed_reason(ValueError("x")) is None
    assert not_assessed_reason(ReadOnlyViolation("refused POST")) is None


def test_unusable_credentials_become_one_clear_line() -> None:
    err = credentials_error(
        ClientAuthenticationError(
            "DefaultAzureCredential failed to retrieve a token.\nAttempted credentials:\n..."
        )
    )
    assert isinstance(err, CredentialsError)
    assert "\n" not in str(err) and "az login" in str(err)
    assert credentials_error(ValueError("x")) is None


def test_subscription_ids_are_guids() -> None:
    assert parse_subscription_ids([SUB, SUB.upper(), " " + SUB]) == [SUB]
    with pytest.raises(UsageError, match="not an Azure subscription id"):
        parse_subscription_ids(["prod"])
    with pytest.raises(UsageError, match=r"\\x1b"):
        parse_subscription_ids(["\x1b[31mred"])


class _Inner:
    def __init__(self, status: int = 200, body: str = "{}") -> None:
        self.sent: list[Any] = []
        self.status, self.body = status, body

    def send(self, request: Any, **_: Any) -> Any:
        self.sent.append(request)
        return SimpleNamespace(status_code=self.status, text=lambda: self.body)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD"])
def test_read_only_transport_refuses_all_but_get(method: str) -> None:
    inner = _Inner()
    transport = ReadOnlyTransport(inner)  # type: ignore[arg-type]
    with pytest.raises(ReadOnlyViolation, match=f"refused {method} /subscriptions/x/providers"):
        transport.send(
            HttpRequest(
                method,
                "https://management.azure.com/subscriptions/x/providers/Microsoft.KeyVault/register",
            )
        )
    assert inner.sent == []
    transport.send(HttpRequest("GET", "https://management.azure.com/subscriptions/x"))
    assert len(inner.sent) == 1


def test_read_only_transport_stops_provider_registration() -> None:
    body = json.dumps(
        {
            "error": {
                "code": "MissingSubscriptionRegistration",
                "message": "The subscription is not registered to use namespace "
                "'Microsoft.KeyVault'. See https://aka.ms/rps-not-found.",
            }
        }
    )
    transport = ReadOnlyTransport(_Inner(409, body))  # type: ignore[arg-type]
    with pytest.raises(ProviderNotRegistered) as raised:
        transport.send(
            HttpRequest(
                "GET",
                "https://management.azure.com/subscriptions/x/providers/Microsoft.KeyVault/vaults",
            )
        )
    assert raised.value.namespace == "Microsoft.KeyVault"
    other = ReadOnlyTransport(_Inner(409, json.dumps({"error": {"code": "Conflict"}})))  # type: ignore[arg-type]
    assert other.send(HttpRequest("GET", "https://x/y")).status_code == 409
