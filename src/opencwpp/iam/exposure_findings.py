"""Exposure findings over the lake: every collected resource policy and role trust policy.

Each policy is judged by `exposure.foreign_access` (evaluated for an anonymous caller, an unknown
foreign account and each account it names), never by looking for `"*"`. Accounts the user lists
as trusted and the accounts of the same Organization are not foreign. An S3 bucket is probed on
the bucket and on an object key, since bucket and object actions name different ARNs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.iam.estate import Estate, Share
from opencwpp.iam.exposure import Access, foreign_access
from opencwpp.iam.model import PolicyError
from opencwpp.lake import Lake

PUBLIC = "iam_resource_public"
CROSS_ACCOUNT = "iam_resource_cross_account"
CHECKS = (PUBLIC, CROSS_ACCOUNT)
_TYPES = {
    "s3": "AwsS3Bucket",
    "kms": "AwsKmsKey",
    "sqs": "AwsSqsQueue",
    "sns": "AwsSnsTopic",
    "secretsmanager": "AwsSecretsManagerSecret",
    "lambda": "AwsLambdaFunction",
    "ecr": "AwsEcrRepository",
    "efs": "AwsEfsFileSystem",
    "role": "AwsIamRole",
    "ebs-snapshot": "AwsEc2Snapshot",
    "rds-snapshot": "AwsRdsDbSnapshot",
    "rds-cluster-snapshot": "AwsRdsDbClusterSnapshot",
    "ami": "AwsEc2Image",
}
# What a grantee of a sharing attribute can do with the resource.
_SHARED_ACTIONS = {
    "ebs-snapshot": ("ec2:CreateVolume", "ec2:CopySnapshot"),
    "rds-snapshot": ("rds:RestoreDBInstanceFromDBSnapshot", "rds:CopyDBSnapshot"),
    "rds-cluster-snapshot": ("rds:RestoreDBClusterFromSnapshot", "rds:CopyDBClusterSnapshot"),
    "ami": ("ec2:RunInstances", "ec2:CopyImage"),
}
# Public access to these gives away credentials, keys or code execution.
_CRITICAL = frozenset({"role", "kms", "secretsmanager", "lambda"})
_PROBE_OBJECT = "cwpp-exposure-probe"


@dataclass(frozen=True, slots=True)
class Exposure:
    """Who outside the account can do what on one resource."""

    arn: str
    kind: str
    account_id: str
    region: str
    accesses: tuple[Access, ...]

    @property
    def public(self) -> list[Access]:
        """The accesses open to anyone."""
        return [a for a in self.accesses if not a.who.startswith("account ")]

    @property
    def foreign(self) -> list[Access]:
        """The accesses of named foreign accounts."""
        return [a for a in self.accesses if a.who.startswith("account ")]


def _merge(found: Iterable[Access]) -> tuple[Access, ...]:
    by_who: dict[str, tuple[dict[str, None], dict[str, None]]] = {}
    for access in found:
        actions, statements = by_who.setdefault(access.who, ({}, {}))
        actions.update(dict.fromkeys(access.actions))
        statements.update(dict.fromkeys(access.statements))
    return tuple(Access(who, tuple(a), tuple(s)) for who, (a, s) in by_who.items())


def exposures(
    estate: Estate, trusted_accounts: Iterable[str] = (), org_accounts: Iterable[str] = ()
) -> Iterator[Exposure]:
    """Every resource or role whose policy lets someone outside the account in."""
    not_foreign = {*trusted_accounts, *org_accounts, *estate.org_accounts}
    items = [(r.arn, r.kind, r.account_id, r.region, r.document) for r in estate.resources.values()]
    items += [(r.arn, "role", r.account_id, "", r.trust) for r in estate.roles() if r.trust]
    for arn, kind, account, region, document in sorted(items, key=lambda i: i[0]):
        probes = [arn, f"{arn}/{_PROBE_OBJECT}"] if kind == "s3" else [arn]
        found: list[Access] = []
        for probe in probes:
            try:
                found += foreign_access(dict(document), probe, account, None, not_foreign)
            except PolicyError as err:
                estate.warnings.append(f"{arn}: policy not evaluated: {err}")
        merged = _merge(found)
        if merged:
            yield Exposure(arn, kind, account, region, merged)
    yield from _share_exposures(estate, not_foreign)


def _share_exposures(estate: Estate, not_foreign: set[str]) -> Iterator[Exposure]:
    """Snapshots and AMIs shared by attribute: with everyone (`all`) or with foreign accounts."""
    by_resource: dict[str, list[Share]] = {}
    for share in estate.shares:
        by_resource.setdefault(share.arn, []).append(share)
    for arn, shares in sorted(by_resource.items()):
        first = shares[0]
        actions = _SHARED_ACTIONS.get(first.kind, ())
        found = []
        for s in shares:
            how = f"{s.attribute} grants {s.grantee}"
            if s.grantee_type == "group" and s.grantee == "all":
                found.append(Access("anyone (public)", actions, (how,)))
            elif s.grantee_type == "account" and s.grantee not in not_foreign | {s.account_id}:
                found.append(Access(f"account {s.grantee}", actions, (how,)))
        merged = _merge(found)
        if merged:
            yield Exposure(arn, first.kind, first.account_id, first.region, merged)


def _describe(accesses: Iterable[Access]) -> str:
    parts = []
    for access in accesses:
        shown = ", ".join(access.actions[:5]) + (" …" if len(access.actions) > 5 else "")
        parts.append(f"{access.who} can {shown}")
    return "; ".join(parts)


def _finding(exposure: Exposure, check: str, accesses: list[Access]) -> Finding:
    kind_name = _TYPES.get(exposure.kind, exposure.kind)
    name = exposure.arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    if check == PUBLIC:
        title = f"{kind_name} {name} is public"
        severity = Severity.CRITICAL if exposure.kind in _CRITICAL else Severity.HIGH
    else:
        accounts = ", ".join(a.who.removeprefix("account ") for a in accesses)
        title = f"{kind_name} {name} is shared cross-account to {accounts}"
        severity = Severity.MEDIUM
    return Finding(
        check_id=check,
        title=title,
        pillar=Pillar.ACCESS,
        severity=severity,
        status=Status.FAIL,
        resource=ResourceRef(exposure.arn, kind_name, exposure.account_id, exposure.region, name),
        status_reason=_describe(accesses),
        evidence={
            "accesses": [
                {"who": a.who, "actions": list(a.actions), "statements": list(a.statements)}
                for a in accesses
            ]
        },
        remediation=(
            "Remove the statement that grants it, or restrict it with a condition on "
            "aws:PrincipalOrgID, aws:SourceAccount, aws:SourceArn or aws:SourceVpce; list "
            "partner accounts you trust in `trusted_accounts`."
        ),
    )


def exposure_findings(
    estate: Estate, trusted_accounts: Iterable[str] = (), org_accounts: Iterable[str] = ()
) -> list[Finding]:
    """A public and / or a cross-account finding per exposed resource."""
    out = []
    for exposure in exposures(estate, trusted_accounts, org_accounts):
        if exposure.public:
            out.append(_finding(exposure, PUBLIC, exposure.public))
        if exposure.foreign:
            out.append(_finding(exposure, CROSS_ACCOUNT, exposure.foreign))
    return out


def run_exposure(
    lake: Lake,
    estate: Estate,
    trusted_accounts: Iterable[str] = (),
    org_accounts: Iterable[str] = (),
) -> tuple[list[Finding], dict[str, int]]:
    """Computes the exposure findings and stores them with history."""
    findings = exposure_findings(estate, trusted_accounts, org_accounts)
    run_id = start_run(lake, "iam-exposure")
    counts = save_findings(lake, run_id, findings, CHECKS)
    finish_run(lake, run_id, "ok", {"findings": len(findings), **counts})
    return findings, counts
