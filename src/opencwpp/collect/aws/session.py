"""The AWS session context: credentials, the account id, and thread-safe client creation.

Credentials come from the standard chain (environment, profile, SSO, instance role); an
`endpoint_url` (or the standard `AWS_ENDPOINT_URL` variable, which boto3 honours itself) points
every client at an emulator.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
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

from opencwpp.core.errors import CredentialsError, CwppError, UsageError

DEFAULT_REGION = "us-east-1"
# Adaptive retries: throttling slows this client down (client-side rate limit) and is retried
# with backoff. Three attempts keep an emulator's "not implemented" 500s from dominating a run.
_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=30,
)
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
        self.session = session
        self.endpoint_url = endpoint_url
        self.default_region = session.region_name or DEFAULT_REGION
        self._account_id = account_id
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

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
        client per (service, region) rather than per thread: each costs about 0.3 MB, and eight
        workers over a dozen regions and services would hold hundreds of them.
        """
        region = region or self.default_region
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        account = self.account_id if service == "s3control" and self.custom_endpoint else None
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self.session.client(
                    service, region_name=region, endpoint_url=self.endpoint_url, config=_CONFIG
                )
                if account:
                    client.meta.events.register(
                        "before-sign.s3-control.*", _strip_account_host_prefix(account)
                    )
                self._clients[key] = client
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
