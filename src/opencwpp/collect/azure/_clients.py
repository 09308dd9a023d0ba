"""Read-only SDK clients for the compute, network, SQL, monitor and Defender modules.

Built like the context's own clients (same credential, endpoint, read-only transport and
retries) and kept in the subscription context's client cache, so `SubscriptionContext.close`
closes them too. `call_raw` keeps the REST JSON of an operation that is not paged (the SDK's
models drop fields); `get_raw` reads an ARM path for which the pinned SDKs have no operation
(subscription diagnostic settings are missing from azure-mgmt-monitor 7, which also has no
public `send_request`: the Resource Manager client's pipeline carries those reads).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from opencwpp.collect.azure.base import Row
from opencwpp.collect.azure.context import SubscriptionContext


def _cached(sub: SubscriptionContext, kind: str, factory: Callable[..., Any]) -> Any:
    azure = sub.azure
    # The context's own cache: one client per kind and subscription, closed with the context.
    return sub.cached_client(
        kind, lambda: factory(azure.credential, sub.subscription_id, **azure.client_kwargs())
    )


def network(sub: SubscriptionContext) -> Any:
    """The Network management client of this subscription."""
    from azure.mgmt.network import NetworkManagementClient

    return _cached(sub, "network", NetworkManagementClient)


def compute(sub: SubscriptionContext) -> Any:
    """The Compute management client of this subscription."""
    from azure.mgmt.compute import ComputeManagementClient

    return _cached(sub, "compute", ComputeManagementClient)


def sql(sub: SubscriptionContext) -> Any:
    """The SQL management client of this subscription."""
    from azure.mgmt.sql import SqlManagementClient

    return _cached(sub, "sql", SqlManagementClient)


def resources(sub: SubscriptionContext) -> Any:
    """The Resource Manager client of this subscription: a generic ARM pipeline for `get_raw`."""
    from azure.mgmt.resource.resources import ResourceManagementClient

    return _cached(sub, "resources", ResourceManagementClient)


def security(sub: SubscriptionContext) -> Any:
    """The Defender for Cloud (Security Center) client of this subscription."""
    from azure.mgmt.security import SecurityCenter

    return _cached(sub, "security", SecurityCenter)


def call_raw(operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Row:
    """The REST JSON body of a non-paged SDK operation (`{}` when it answered no body)."""
    bodies: list[Row] = []

    def keep(response: Any) -> None:
        http = response.http_response
        if http.status_code == 200:
            bodies.append(json.loads(http.text() or "{}"))

    operation(*args, raw_response_hook=keep, **kwargs)
    return bodies[-1] if bodies else {}


def get_raw(client: Any, path: str, api_version: str) -> Row:
    """GETs an ARM path through `client`'s pipeline; ARM errors raise `HttpResponseError`.

    Args:
        client: any management client (its auth, retries and read-only transport are used).
        path: an ARM path built from validated ids only (a subscription GUID).
        api_version: the REST API version to ask for.
    """
    request = HttpRequest("GET", path, params={"api-version": api_version})
    response = client.send_request(request)
    if response.status_code != 200:
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    body = json.loads(response.text() or "{}")
    return body if isinstance(body, dict) else {}
