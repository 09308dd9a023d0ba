"""The collector pattern: a declarative `Resource` spec per collectable unit, and its registry.

Each resource module under `opencwpp.collect.aws` declares the tables it fills, the read-only IAM
permissions it needs and a `fetch` that calls the API and hands the responses to pure transform
functions (Cartography's get -> transform -> load; the load is `opencwpp.collect.sync`).

Expected cloud errors are an explicit allow-list: "not configured" codes mean an absent
sub-resource (an empty child row set), "not assessable" codes and unavailable services make a
scope NOT_ASSESSED with the reason. Anything else raises.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError
from botocore.parsers import ResponseParserError

from opencwpp.collect.aws.policies import POLICY_TABLES
from opencwpp.core.registry import Registry
from opencwpp.lake.schema import Table

Row = dict[str, Any]
Rows = dict[Table, list[Row]]

# The caller may not read this scope: recorded as not assessed, the sync goes on.
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "OptInRequired",
    }
)
# A sub-resource that is simply not configured: an empty child row set, not an error.
NOT_CONFIGURED_CODES = frozenset(
    {
        "NoSuchBucketPolicy",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError",
        "NoSuchTagSet",
        "NoSuchEntity",
    }
)
# What an emulator (or a partition without the service) answers for an API it lacks.
_UNAVAILABLE_HTTP_STATUS = frozenset({404, 500, 501})

READ_ONLY_PREFIXES = ("List", "Get", "Describe")
# API Gateway names its IAM actions after HTTP verbs; GET is its only read.
READ_ONLY_EXCEPTIONS = frozenset({"iam:GenerateCredentialReport", "apigateway:GET"})


class SessionContext(Protocol):
    """What a fetch needs of a cloud session: the account and a client factory."""

    @property
    def account_id(self) -> str:
        """The account the credentials belong to."""
        ...

    def client(self, service: str, region: str | None = None) -> Any:
        """A client for `service` in `region` (the default region when None)."""
        ...


# A fetch returns its rows at once, or yields them a page at a time (an iterator of `Rows`)
# so that the sync can move a large unit to disk page by page instead of holding all of it.
Fetch = Callable[[Any, str | None], Rows | Iterable[Rows]]


@dataclass(frozen=True)
class Resource:
    """One collectable unit: the tables it fills, the permissions it needs, how to fetch it.

    Attributes:
        name: unique id, `<service>.<resource>` (e.g. `s3.buckets`).
        service: the cloud service (e.g. `s3`).
        tables: every table `fetch` returns rows for (shared derived tables included).
        permissions: the read-only IAM actions `fetch` calls.
        fetch: `fetch(session_context, region) -> {Table: rows}`, or an iterator yielding
            such row sets page by page (for listings that run into thousands); region is None
            when global. A page that raises fails the whole unit, earlier pages included.
        global_service: synced once per account (region None) rather than per region.
    """

    name: str
    service: str
    tables: tuple[Table, ...]
    permissions: tuple[str, ...]
    fetch: Fetch
    global_service: bool = False
    description: str = ""

    @property
    def own_tables(self) -> tuple[Table, ...]:
        """The tables this resource owns (shared, partitioned derived tables excluded)."""
        return tuple(t for t in self.tables if t.partition_by is None)


RESOURCES: Registry[Resource] = Registry("collector")


def register(resource: Resource) -> Resource:
    """Adds a resource to the registry (called at import time of its module)."""
    return RESOURCES.add(resource.name, resource)


def load_resources() -> Registry[Resource]:
    """Imports every `opencwpp.collect.aws` module so that their resources register."""
    package = importlib.import_module("opencwpp.collect.aws")
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    return RESOURCES


def all_tables() -> dict[str, Table]:
    """Every table any collector declares, by name (the policy statement tables included)."""
    tables: dict[str, Table] = {t.name: t for t in POLICY_TABLES}
    for resource in load_resources():
        for tbl in resource.tables:
            tables.setdefault(tbl.name, tbl)
    return tables


def error_code(err: ClientError) -> str:
    """The error code of a botocore ClientError ('' when absent)."""
    return str(err.response.get("Error", {}).get("Code", ""))


def _http_status(err: ClientError) -> int:
    return int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def not_assessed_reason(err: BaseException) -> str | None:
    """Why a scope cannot be assessed, when `err` is an expected one; None otherwise."""
    if isinstance(err, EndpointConnectionError | ConnectTimeoutError):
        return f"service not available: {err}"
    if isinstance(err, ResponseParserError):
        # What an emulator's "not implemented" page looks like to botocore's XML parsers.
        return f"service not available: unparsable response ({str(err).splitlines()[0][:120]})"
    if not isinstance(err, ClientError):
        return None
    code = error_code(err)
    operation = getattr(err, "operation_name", "") or "?"
    if code in ACCESS_DENIED_CODES:
        return f"{code} on {operation}"
    if _http_status(err) in _UNAVAILABLE_HTTP_STATUS and code not in NOT_CONFIGURED_CODES:
        return f"service not available: {operation} answered HTTP {_http_status(err)}"
    return None


def optional(
    call: Callable[..., Mapping[str, Any]],
    /,
    *,
    absent: frozenset[str] = NOT_CONFIGURED_CODES,
    **kwargs: Any,
) -> Mapping[str, Any] | None:
    """Calls `call(**kwargs)`; None when the error code says the sub-resource is absent."""
    try:
        return call(**kwargs)
    except ClientError as err:
        if error_code(err) in absent:
            return None
        raise


# Pages of the big EC2 listings: bounded responses keep each call short and its parse small
# (a page of 500 instances is a 2 MB answer that peaks at some 10 MB while parsed, and eight
# fetch threads may parse one each at once).
PAGE_SIZE = 200


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """All items under `key` of every page of a paginated operation."""
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[list[Any]]:
    """The items under `key` of a paginated operation, one list per API page, as they arrive."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield list(page.get(key, []))


def tags_dict(tags: list[Mapping[str, Any]] | None) -> dict[str, str]:
    """AWS `[{Key, Value}]` tags as CloudQuery's flat `{key: value}` object (`{}` when none)."""
    return {str(t.get("Key")): str(t.get("Value", "")) for t in tags or []}


def strip_metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    """A boto3 response without its `ResponseMetadata`."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def is_read_only(permission: str) -> bool:
    """Whether an IAM action only reads (List*, Get*, Describe*, or an allowed exception)."""
    if permission in READ_ONLY_EXCEPTIONS:
        return True
    _, _, action = permission.partition(":")
    return action.startswith(READ_ONLY_PREFIXES)


def partition_of(region: str | None) -> str:
    """The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`)."""
    region = region or ""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def policy_document(document: Any) -> dict[str, Any] | None:
    """A policy document as a dict: parsed as is, or URL-decoded first (as IAM returns it)."""
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        return None
    for text in (document, unquote(document)):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            continue
        return parsed if isinstance(parsed, dict) else None
    return None


def least_privilege_policy(resources: Iterable[Resource] | None = None) -> dict[str, Any]:
    """The IAM policy document granting exactly the read-only actions the collectors call."""
    chosen = list(resources) if resources is not None else list(load_resources())
    actions = sorted({p for r in chosen for p in r.permissions}, key=str.lower)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OpencwppReadOnlyInventory",
                "Effect": "Allow",
                "Action": actions,
                "Resource": "*",
            }
        ],
    }
