"""The Azure context: credentials, the ARM and Graph endpoints, subscriptions, read-only clients.

Production uses `DefaultAzureCredential` (environment, workload identity, managed identity, the
Azure CLI …) against the public cloud. Tests inject a credential, ARM and Graph base URLs on
loopback and the CA bundle that signed them (`connection_verify`), so the real SDK clients make
real HTTPS calls.

Every client sends through `ReadOnlyTransport`, which refuses anything but GET. It also turns
ARM's MissingSubscriptionRegistration answer into `ProviderNotRegistered` before azure-mgmt-core
would try to register the provider (a POST) on our behalf.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
)
from azure.core.pipeline.transport import HttpTransport, RequestsTransport

from opencwpp.collect.azure.base import ProviderNotRegistered, ReadOnlyViolation, Row, list_raw
from opencwpp.core.errors import CredentialsError, CwppError, UsageError

_SUBSCRIPTION_ID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_FIX = (
    "run `az login`, set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, "
    "or use a managed identity"
)
_RETRIES: dict[str, Any] = {"retry_total": 3, "retry_backoff_factor": 0.5}
T = TypeVar("T")


def credentials_error(err: BaseException) -> CredentialsError | None:
    """A one-line CredentialsError when `err` means the Azure credentials are unusable."""
    if isinstance(err, ClientAuthenticationError):
        first = str(err.message or err).strip().splitlines()
        detail = first[0][:200] if first else "authentication failed"
        return CredentialsError(f"no usable Azure credentials ({detail}): {_FIX}")
    return None


class ReadOnlyTransport(HttpTransport):  # type: ignore[type-arg]
    """An HTTP transport that sends only GET requests, wrapping the SDK's default one."""

    def __init__(self, inner: RequestsTransport) -> None:
        self._inner = inner

    def __enter__(self) -> ReadOnlyTransport:
        self._inner.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self._inner.__exit__(*args)

    def open(self) -> None:
        """Opens the wrapped transport's session."""
        self._inner.open()

    def close(self) -> None:
        """Closes the wrapped transport's session."""
        self._inner.close()

    def send(self, request: Any, **kwargs: Any) -> Any:
        """Sends a GET; raises ReadOnlyViolation for any other method."""
        method = str(request.method).upper()
        if method != "GET":
            path = urlsplit(str(request.url)).path
            raise ReadOnlyViolation(f"refused {method} {path}: the Azure collector only reads")
        response = self._inner.send(request, **kwargs)
        if response.status_code == 409:
            _raise_if_not_registered(response)
        return response


def _raise_if_not_registered(response: Any) -> None:
    try:
        error = json.loads(response.text()).get("error") or {}
    except (ValueError, AttributeError):
        return
    if error.get("code") == "MissingSubscriptionRegistration":
        message = str(error.get("message") or "")
        quoted = re.findall(r"'([A-Za-z0-9.]+)'", message)
        raise ProviderNotRegistered(quoted[-1] if quoted else "?", message[:200])


class Once:
    """Values loaded once per key by concurrent callers; a failed load is not kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}
        self._loading: dict[str, threading.Lock] = {}

    def get(self, key: str, load: Callable[[], T]) -> T:
        """The value of `key`, made by `load()` the first time (others wait for it)."""
        with self._lock:
            if key in self._values:
                return self._values[key]  # type: ignore[no-any-return]
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._values:
                    return self._values[key]  # type: ignore[no-any-return]
            value = load()
            with self._lock:
                self._values[key] = value
            return value


class AzureContext:
    """One Azure identity: its credential, where ARM and Graph are, the subscriptions it sees."""

    def __init__(
        self,
        credential: Any,
        *,
        arm_endpoint: str | None = None,
        connection_verify: str | bool = True,
        blob_credential: Any = None,
        graph_endpoint: str | None = None,
    ) -> None:
        self.credential = credential
        self.arm_endpoint = arm_endpoint
        # Microsoft Graph's base URL (tests: the loopback replay server).
        self.graph_endpoint = graph_endpoint
        self.connection_verify = connection_verify
        # Data-plane credential for storage accounts (tests: Azurite's shared key); by default
        # the same Entra ID credential.
        self.blob_credential = blob_credential if blob_credential is not None else credential

    @classmethod
    def create(
        cls, *, arm_endpoint: str | None = None, graph_endpoint: str | None = None
    ) -> AzureContext:
        """A context from the default credential chain (nothing is contacted yet)."""
        from azure.identity import DefaultAzureCredential

        return cls(
            DefaultAzureCredential(), arm_endpoint=arm_endpoint, graph_endpoint=graph_endpoint
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments every SDK client gets: endpoint, read-only transport, retries."""
        kwargs: dict[str, Any] = {"transport": self.transport(), **_RETRIES}
        if self.arm_endpoint:
            kwargs["base_url"] = self.arm_endpoint
        return kwargs

    def transport(self) -> ReadOnlyTransport:
        """A fresh read-only transport (one per client: sessions are not shared)."""
        return ReadOnlyTransport(RequestsTransport(connection_verify=self.connection_verify))

    def list_subscriptions(self) -> list[Row]:
        """Every subscription the credential can see, as REST JSON objects."""
        from azure.mgmt.subscription import SubscriptionClient

        client = SubscriptionClient(self.credential, **self.client_kwargs())
        try:
            return list_raw(client.subscriptions.list)
        except ClientAuthenticationError as err:
            raise credentials_error(err) or err from err
        except ServiceRequestError as err:
            where = self.arm_endpoint or "https://management.azure.com"
            raise CwppError(f"cannot reach Azure Resource Manager at {where}: {err}") from err
        except HttpResponseError as err:
            raise CwppError(f"cannot list Azure subscriptions (HTTP {err.status_code})") from err
        finally:
            client.close()

    def subscriptions(self, wanted: Iterable[str] = ()) -> list[SubscriptionContext]:
        """Contexts for the wanted subscriptions (all visible ones when none are named)."""
        chosen = parse_subscription_ids(wanted)
        visible = {str(s.get("subscriptionId", "")).lower(): s for s in self.list_subscriptions()}
        # Tenant-wide reads (a directory's users) are shared by these subscriptions only, so
        # the next listing (the next sync) reads them afresh.
        tenant = Once()
        if not chosen:
            return [SubscriptionContext(self, s, tenant) for s in visible.values()]
        missing = [s for s in chosen if s.lower() not in visible]
        if missing:
            raise UsageError(
                f"subscription(s) not visible to these credentials: {', '.join(missing)}"
            )
        return [SubscriptionContext(self, visible[s.lower()], tenant) for s in chosen]


def parse_subscription_ids(values: Iterable[str]) -> list[str]:
    """Subscription ids from the command line, checked to be GUIDs; duplicates dropped."""
    out: list[str] = []
    for value in values:
        value = value.strip()
        if not _SUBSCRIPTION_ID.match(value):
            shown = value[:60].encode("unicode_escape").decode()
            raise UsageError(
                f"not an Azure subscription id: {shown!r} (expected a GUID such as "
                "00000000-0000-0000-0000-000000000000)"
            )
        if value.lower() not in (v.lower() for v in out):
            out.append(value)
    return out


class SubscriptionContext:
    """One subscription: lazily built SDK clients and lists several resources share."""

    def __init__(self, azure: AzureContext, subscription: Row, tenant: Once | None = None) -> None:
        self.azure = azure
        self.subscription = subscription
        # Loads shared with the other subscriptions of the same listing (see `subscriptions`).
        self.tenant_shared = tenant if tenant is not None else Once()
        self.subscription_id = str(subscription["subscriptionId"])
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._shared = Once()

    @property
    def account_id(self) -> str:
        """The subscription id (what the lake calls the account of a scope)."""
        return self.subscription_id

    def cached_client(self, kind: str, factory: Callable[[], Any]) -> Any:
        """This subscription's client of `kind`, made by `factory` once; closed with the context."""
        with self._lock:
            if kind not in self._clients:
                self._clients[kind] = factory()
            return self._clients[kind]

    def storage(self) -> Any:
        """The Storage management client of this subscription."""
        from azure.mgmt.storage import StorageManagementClient

        return self.cached_client(
            "storage",
            lambda: StorageManagementClient(
                self.azure.credential, self.subscription_id, **self.azure.client_kwargs()
            ),
        )

    def authorization(self) -> Any:
        """The Authorization (RBAC) management client of this subscription."""
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self.cached_client(
            "authorization",
            lambda: AuthorizationManagementClient(
                self.azure.credential, self.subscription_id, **self.azure.client_kwargs()
            ),
        )

    def keyvault(self) -> Any:
        """The Key Vault management client of this subscription (no data-plane access)."""
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return self.cached_client(
            "keyvault",
            lambda: KeyVaultManagementClient(
                self.azure.credential, self.subscription_id, **self.azure.client_kwargs()
            ),
        )

    def blob_service(self, account_url: str) -> Any:
        """A Blob data-plane client for one storage account endpoint (a new one per call)."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(
            account_url,
            credential=self.azure.blob_credential,
            transport=self.azure.transport(),
            **_RETRIES,
        )

    def shared(self, key: str, load: Callable[[], T]) -> T:
        """`load()` once per subscription (e.g. the storage account list several units need).

        Concurrent callers wait for the first; a failed load is not kept, so each caller
        meets the same error and records it for its own tables.
        """
        return self._shared.get(key, load)

    def close(self) -> None:
        """Closes every client this context opened."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
