"""A read-only Microsoft Graph client: the collector's credential, transport and retries.

Graph has no management SDK among our dependencies, so this is azure-core's own pipeline with
the pieces every ARM client gets: the read-only transport (GET only), retries that honour
Retry-After, and a bearer token for `https://graph.microsoft.com/.default`, asked for in the
subscription's tenant (the directory its role assignments' principals live in). `@odata.nextLink`
is followed only while it stays on the Graph endpoint: the token never goes anywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from azure.core import PipelineClient
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ODataV4Format
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from azure.core.rest import HttpRequest

from opencwpp.collect.azure.base import GraphTokenUnavailable, Row
from opencwpp.collect.azure.context import AzureContext

GRAPH_ENDPOINT = "https://graph.microsoft.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# A directory of a million users is a thousand pages; more means a link that loops.
MAX_PAGES = 10_000


class _TenantCredential:
    """The collector's credential, asking for tokens in one tenant (when it is known)."""

    def __init__(self, inner: Any, tenant_id: str) -> None:
        self._inner = inner
        self._tenant_id = tenant_id

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """A token for `scopes` in this tenant; unusable credentials say so in one line."""
        if self._tenant_id:
            kwargs["tenant_id"] = self._tenant_id
        try:
            token: AccessToken = self._inner.get_token(*scopes, **kwargs)
        except ClientAuthenticationError as err:
            # ARM already worked with this credential: a refusal here is about Graph or this
            # tenant (not allowed, no consent), so the tenant is not assessed, not the sync.
            lines = str(err.message or err).strip().splitlines()
            raise GraphTokenUnavailable(
                self._tenant_id, lines[0][:200] if lines else "authentication failed"
            ) from err
        return token


def graph_client(azure: AzureContext, tenant_id: str) -> PipelineClient[Any, Any]:
    """A Graph pipeline for one tenant: GET-only transport, retries, bearer token."""
    credential = _TenantCredential(azure.credential, tenant_id)
    policies = [
        HeadersPolicy({"Accept": "application/json"}),
        UserAgentPolicy(sdk_moniker="opencwpp"),
        RetryPolicy(retry_total=3, retry_backoff_factor=0.5),
        BearerTokenCredentialPolicy(credential, GRAPH_SCOPE),
    ]
    base = azure.graph_endpoint or GRAPH_ENDPOINT
    return PipelineClient(base, policies=policies, transport=azure.transport())


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme.lower(), a.netloc.lower()) == (b.scheme.lower(), b.netloc.lower())


def list_graph(
    client: PipelineClient[Any, Any], path: str, params: dict[str, str]
) -> Iterator[Row]:
    """Every item of a Graph collection, following `@odata.nextLink`.

    Raises:
        HttpResponseError: Graph answered an error (403 Authorization_RequestDenied among them:
            the sync records that scope as not assessed).
        ValueError: a next link leaves the Graph endpoint, or the paging does not end.
    """
    request = HttpRequest("GET", client.format_url(path), params=params)
    for _ in range(MAX_PAGES):
        response = client.send_request(request)
        if response.status_code != 200:
            raise HttpResponseError(response=response, error_format=ODataV4Format)
        page = json.loads(response.text() or "{}")
        yield from (item for item in page.get("value") or [] if isinstance(item, dict))
        link = page.get("@odata.nextLink")
        if not link:
            return
        if not _same_origin(str(link), client.format_url("/")):
            raise ValueError(f"Graph next link leaves the Graph endpoint: {str(link)[:100]}")
        request = HttpRequest("GET", str(link))
    raise ValueError(f"Graph paging of {path} did not end after {MAX_PAGES} pages")
