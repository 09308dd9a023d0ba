"""Many accounts into one lake: assume a role in each, then sync them all in parallel.

The accounts are listed, or every active account of the AWS Organization; the role is assumed
from the standard credential chain.

Rows are told apart by `account_id`. An account whose role cannot be assumed is recorded not
assessed with the reason, the others go on, and the sync ends in `SyncFailed` naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from opencwpp.collect.aws.session import AwsContext, credentials_error
from opencwpp.collect.base import Resource, error_code, load_resources, partition_of
from opencwpp.collect.sync import (
    DEFAULT_WORKERS,
    STATUS_NOT_ASSESSED,
    Progress,
    SyncReport,
    SyncTarget,
    prepare,
    record_scope,
    sync_targets,
)
from opencwpp.core.errors import CwppError, UsageError
from opencwpp.lake.lake import Lake, Scope

ROLE_SESSION_NAME = "opencwpp"
DEFAULT_ACCOUNT_WORKERS = 4
_ACCOUNT_ID = re.compile(r"\d{12}")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}(/[\w+=,.@-]{1,64})*")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")


def parse_account_ids(values: Iterable[str]) -> list[str]:
    """12-digit account ids, deduplicated in order; UsageError naming a malformed one."""
    out: list[str] = []
    for value in values:
        account = value.strip()
        if not _ACCOUNT_ID.fullmatch(account):
            raise UsageError(f"not an AWS account id (12 digits): {account!r}")
        if account not in out:
            out.append(account)
    return out


def check_role_options(role_name: str, external_id: str | None) -> None:
    """UsageError when the role name or the external id cannot be valid."""
    if not _ROLE_NAME.fullmatch(role_name):
        raise UsageError(
            f"not an IAM role name: {role_name!r} (e.g. OrganizationAccountAccessRole)"
        )
    if external_id is not None and not _EXTERNAL_ID.fullmatch(external_id):
        raise UsageError("--external-id must be 2 to 1224 characters of [A-Za-z0-9+=,.@:/_-]")


def role_arn(account_id: str, role_name: str, region: str | None = None) -> str:
    """`arn:<partition>:iam::<account>:role/<name>`."""
    return f"arn:{partition_of(region)}:iam::{account_id}:role/{role_name}"


class _AssumedRoleProvider(CredentialProvider):  # type: ignore[misc]
    """Hands botocore credentials that re-assume the role before they expire."""

    METHOD = "opencwpp-assume-role"
    CANONICAL_NAME = "opencwpp-assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


def assumed_role_session(
    base: AwsContext, arn: str, external_id: str | None = None
) -> boto3.Session:
    """A boto3 session in the role `arn`, whose credentials renew themselves.

    A sync of a large Organization can outlast the one hour an AssumeRole session lasts, so the
    credentials are refreshable: botocore calls AssumeRole again shortly before they expire. The
    session shares the base session's model loader, so each extra account does not parse the
    service models (tens of MB) again.
    """
    kwargs = {"ExternalId": external_id} if external_id else {}

    def fetch() -> dict[str, str]:
        creds = base.client("sts").assume_role(
            RoleArn=arn, RoleSessionName=ROLE_SESSION_NAME, **kwargs
        )["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method=_AssumedRoleProvider.METHOD
    )
    core = botocore.session.get_session()
    core.register_component("data_loader", base.session._session.get_component("data_loader"))
    core.register_component(
        "credential_provider", CredentialResolver([_AssumedRoleProvider(credentials)])
    )
    return boto3.Session(botocore_session=core, region_name=base.default_region)


def assume_role(
    base: AwsContext, account_id: str, role_name: str, external_id: str | None = None
) -> AwsContext:
    """A context in `account_id` through STS AssumeRole (session name `opencwpp`)."""
    arn = role_arn(account_id, role_name, base.default_region)
    session = assumed_role_session(base, arn, external_id)
    return AwsContext(session, endpoint_url=base.endpoint_url, account_id=account_id)


def org_account_ids(base: AwsContext) -> list[str]:
    """The ACTIVE accounts of the Organization, listed from the management/delegated account."""
    client = base.client("organizations")
    try:
        accounts = [
            a for p in client.get_paginator("list_accounts").paginate() for a in p["Accounts"]
        ]
    except ClientError as err:
        cred = credentials_error(err)
        if cred is not None:
            raise cred from err
        if error_code(err) == "AWSOrganizationsNotInUseException":
            raise UsageError("--org: this account is not in an AWS Organization") from err
        raise UsageError(
            f"--org: cannot list the Organization's accounts ({error_code(err)}): use the "
            "management or a delegated administrator account, or pass --accounts"
        ) from err
    return sorted(str(a["Id"]) for a in accounts if (a.get("State") or a.get("Status")) == "ACTIVE")


def _reach(
    base: AwsContext,
    account_id: str,
    role_name: str,
    external_id: str | None,
    regions: Sequence[str] | None,
) -> SyncTarget | str:
    """The account's sync target, or why it cannot be reached."""
    try:
        if account_id == base.account_id:
            ctx = base  # the source account itself: no role to assume
        else:
            ctx = assume_role(base, account_id, role_name, external_id)
        return SyncTarget(ctx, list(regions) if regions else ctx.enabled_regions())
    except (ClientError, BotoCoreError) as err:
        cred = credentials_error(err) if account_id == base.account_id else None
        if cred is not None:
            raise cred from err
        code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
        return f"cannot assume {role_arn(account_id, role_name)}: {code}: {err}"
    except CwppError as err:
        return str(err)


def resolve_targets(
    base: AwsContext,
    account_ids: Sequence[str],
    role_name: str,
    *,
    external_id: str | None = None,
    regions: Sequence[str] | None = None,
    workers: int = DEFAULT_ACCOUNT_WORKERS,
) -> tuple[list[SyncTarget], dict[str, str]]:
    """Reaches every account in a small pool: (targets, {unreachable account: reason})."""
    _ = base.account_id  # asked once (STS), before the threads share the context
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(account_ids) or 1))) as pool:
        results = list(
            pool.map(lambda a: _reach(base, a, role_name, external_id, regions), account_ids)
        )
    targets = [r for r in results if isinstance(r, SyncTarget)]
    failures = {a: r for a, r in zip(account_ids, results, strict=True) if isinstance(r, str)}
    return targets, failures


def record_account_failure(
    lake: Lake,
    account_id: str,
    reason: str,
    regions: Sequence[str],
    resources: Iterable[Resource] | None = None,
    *,
    run_id: str,
) -> None:
    """Marks every scope of an unreachable account not assessed (its previous rows stay)."""
    prepare(lake)
    synced_at = datetime.now(UTC)
    with lake.transaction():
        for resource in resources if resources is not None else load_resources():
            scoped: list[str | None] = [*regions] if regions else [None]
            for region in [None] if resource.global_service else scoped:
                scope = Scope(account_id, region)
                record_scope(lake, resource, scope, STATUS_NOT_ASSESSED, reason, run_id, synced_at)


def sync_accounts(
    lake: Lake,
    base: AwsContext,
    account_ids: Sequence[str],
    role_name: str,
    *,
    external_id: str | None = None,
    regions: Sequence[str] | None = None,
    resources: Iterable[Resource] | None = None,
    progress: Progress | None = None,
    max_workers: int = DEFAULT_WORKERS,
    account_workers: int = DEFAULT_ACCOUNT_WORKERS,
    run_id: str | None = None,
) -> SyncReport:
    """Syncs every account into `lake`; raises `SyncFailed` (with the report) if any failed."""
    check_role_options(role_name, external_id)
    chosen = list(resources) if resources is not None else list(load_resources())
    targets, failures = resolve_targets(
        base,
        account_ids,
        role_name,
        external_id=external_id,
        regions=regions,
        workers=account_workers,
    )
    run = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    for account_id, reason in failures.items():
        record_account_failure(lake, account_id, reason, regions or [], chosen, run_id=run)
    return sync_targets(
        lake,
        targets,
        chosen,
        progress,
        max_workers=max_workers,
        run_id=run,
        account_failures=failures,
    )
