"""The AWS session context: credentials, the account id, and thread-safe client creation.

Credentials come from the standard chain (environment, profile, SSO, instance role); an
`endpoint_url` (or the standard `AWS_ENDPOINT_URL` variable, which boto3 honours itself) points
every client at an emulator. Memory stays bounded however many accounts and regions a sync
walks: botocore's models load lean and once per process, and few clients are kept alive.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.loaders import JSONFileLoader

from opencwpp.core.errors import CredentialsError, CwppError, UsageError

DEFAULT_REGION = "us-east-1"
# Adaptive retries: throttling slows this client down (client-side rate limit) and is retried
# with backoff. Three attempts keep an emulator's "not implemented" 500s from dominating a run.
_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=30,
)
# Clients kept per account: a region's worth of the services a sync calls, and some.
MAX_LIVE_CLIENTS = 48
_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
    }
)
_FIX = "run `aws configure`, set AWS_PROFILE, or `aws sso login`"
_PARTITIONS = ("aws", "aws-us-gov", "aws-cn")


def _drop_documentation(obj: dict[str, Any]) -> dict[str, Any]:
    # Emptied, not removed: botocore indexes some `documentation` keys. Only text: a structure
    # member named "documentation" maps to a dict and stays.
    for key in ("documentation", "documentationUrl"):
        if isinstance(obj.get(key), str):
            obj[key] = ""
    return obj


class LeanModelLoader(JSONFileLoader):  # type: ignore[misc]
    """botocore's model file loader, holding about half the memory.

    botocore parses its JSON models into OrderedDicts and keeps every service's model for the
    life of the process, its documentation text included: some 85 MB for the services a sync
    calls. Plain dicts (ordered too) and API models with their documentation text emptied (only
    docstrings read it) hold the same models in about 45 MB.
    """

    def load_file(self, file_path: str) -> Any:
        """The parsed file at `file_path` + `.json` or `.json.gz`; None when neither exists."""
        hook = _drop_documentation if os.path.basename(file_path) == "service-2" else None
        for extension in (".json", ".json.gz"):
            path = Path(file_path + extension)
            if path.is_file():
                raw = path.read_bytes()
                text = (gzip.decompress(raw) if extension == ".json.gz" else raw).decode("utf-8")
                return json.loads(text, object_hook=hook)
        return None


def use_lean_models(session: boto3.Session) -> None:
    """Makes the session's model loader a `LeanModelLoader` (sessions sharing it included).

    Models the loader already holds stay as they are; the next ones load lean.
    """
    loader = session._session.get_component("data_loader")
    if not isinstance(loader.file_loader, LeanModelLoader):
        loader.file_loader = LeanModelLoader()


def credentials_error(err: BaseException) -> CredentialsError | None:
    """A one-line CredentialsError when `err` means the credentials are unusable."""
    if isinstance(err, ProfileNotFound):
        return CredentialsError(f"AWS profile not found ({err}): {_FIX}")
    if isinstance(err, NoCredentialsError | PartialCredentialsError):
        return CredentialsError(f"no usable AWS credentials found: {_FIX}")
    if isinstance(err, SSOTokenLoadError | UnauthorizedSSOTokenError | TokenRetrievalError):
        return CredentialsError(f"AWS SSO session missing or expired: {_FIX}")
    if isinstance(err, ClientError):
        code = str(err.response.get("Error", {}).get("Code", ""))
        if code in _CREDENTIAL_CODES:
            return CredentialsError(f"AWS credentials rejected ({code}): {_FIX}")
    return None


def _strip_account_host_prefix(account_id: str) -> Any:
    """A `before-sign` handler removing `<account>.` from the S3 Control host (emulators)."""
    prefix = f"{account_id}."

    def handler(request: Any, **_: Any) -> None:
        scheme, sep, rest = str(request.url).partition("://")
        if sep and rest.startswith(prefix):
            request.url = f"{scheme}{sep}{rest[len(prefix) :]}"

    return handler


class AwsContext:
    """One AWS account reached through one boto3 session; clients are cached per thread."""

    def __init__(
        self,
        session: boto3.Session,
        *,
        endpoint_url: str | None = None,
        account_id: str | None = None,
    ) -> None:
        use_lean_models(session)
        self.session = session
        self.endpoint_url = endpoint_url
        self.default_region = session.region_name or DEFAULT_REGION
        self._account_id = account_id
        self._lock = threading.Lock()
        self._clients: OrderedDict[tuple[str, str], Any] = OrderedDict()

    @classmethod
    def create(
        cls,
        profile: str | None = None,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> AwsContext:
        """A context from the standard credential chain (optionally a named profile)."""
        try:
            session = boto3.Session(profile_name=profile, region_name=region)
        except ProfileNotFound as err:
            raise credentials_error(err) or CredentialsError(str(err)) from err
        return cls(session, endpoint_url=endpoint_url)

    @property
    def custom_endpoint(self) -> bool:
        """Whether clients go to a custom endpoint (an emulator) rather than AWS."""
        return bool(self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))

    @property
    def account_id(self) -> str:
        """The account id, from STS GetCallerIdentity (asked once)."""
        if self._account_id is None:
            try:
                identity = self.client("sts").get_caller_identity()
            except (ClientError, NoCredentialsError, PartialCredentialsError) as err:
                raise credentials_error(err) or err from err
            except (SSOTokenLoadError, UnauthorizedSSOTokenError, TokenRetrievalError) as err:
                raise credentials_error(err) or err from err
            except (EndpointConnectionError, ConnectTimeoutError) as err:
                raise CwppError(f"cannot reach AWS: {err}") from err
            self._account_id = str(identity["Account"])
        return self._account_id

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client for `service` in `region`, shared by every thread of the sync.

        boto3 clients are thread-safe (sessions are not, hence the lock around creation). One
        client per (service, region) rather than per thread, and only the `MAX_LIVE_CLIENTS`
        last used are kept: each costs about 0.3 MB, a sync walks its units region by region,
        and a dozen regions of thirty-odd services would hold hundreds of them. A client
        dropped while a thread still uses it keeps working for that thread.
        """
        region = region or self.default_region
        key = (service, region)
        account = self.account_id if service == "s3control" and self.custom_endpoint else None
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
            client = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=_CONFIG
            )
            if account:
                client.meta.events.register(
                    "before-sign.s3-control.*", _strip_account_host_prefix(account)
                )
            self._clients[key] = client
            while len(self._clients) > MAX_LIVE_CLIENTS:
                self._clients.popitem(last=False)
        return client

    def known_regions(self) -> set[str]:
        """Every region name botocore knows (all partitions, opt-in regions included)."""
        regions: set[str] = set()
        for partition in _PARTITIONS:
            regions.update(self.session.get_available_regions("ec2", partition_name=partition))
        return regions

    def validate_regions(self, regions: Iterable[str]) -> list[str]:
        """The regions, checked against botocore's list; UsageError naming an unknown one."""
        known = self.known_regions()
        out: list[str] = []
        for region in regions:
            if region not in known:
                raise UsageError(
                    f"unknown AWS region {region!r} (e.g. us-east-1, eu-west-1, ap-southeast-2)"
                )
            if region not in out:
                out.append(region)
        return out

    def enabled_regions(self) -> list[str]:
        """The regions enabled for the account (EC2 DescribeRegions), the default scan set."""
        try:
            answer = self.client("ec2").describe_regions(AllRegions=False)
        except ClientError as err:
            raise credentials_error(err) or UsageError(
                f"cannot list the account's regions ({err.response['Error'].get('Code')}): "
                "pass --regions"
            ) from err
        enabled = {
            r["RegionName"]
            for r in answer.get("Regions", [])
            if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
        }
        return sorted(enabled)
