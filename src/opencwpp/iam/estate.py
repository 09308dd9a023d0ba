"""The IAM estate: principals with the policies that apply to them, resources and their policies.

Pure data, filled from the lake by `lake_policies.load_estate` (or built directly by tests and the
benchmark). Every document keeps a `ref` (the managed policy ARN, or `inline:<owner>/<name>`) so
that a decision's statements can be named back to the policy a user can open and fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opencwpp.iam.model import Document


@dataclass(frozen=True, slots=True)
class PolicyDoc:
    """One policy document and where it comes from."""

    ref: str
    document: Mapping[str, Any]


@dataclass(slots=True)
class Principal:
    """A user or a role, with every identity policy that applies (group policies included)."""

    arn: str
    kind: str  # user | role
    account_id: str
    name: str
    policies: tuple[PolicyDoc, ...] = ()
    boundary: PolicyDoc | None = None
    groups: tuple[str, ...] = ()
    managed: tuple[str, ...] = ()  # managed policy ARNs attached directly or through a group
    trust: Mapping[str, Any] | None = None  # roles: the trust policy
    variant: str = ""  # set on a what-if copy (boundary removed, group joined): its cache key

    @property
    def key(self) -> str:
        """The cache key of this principal's policy set."""
        return f"{self.arn}|{self.variant}" if self.variant else self.arn


@dataclass(slots=True)
class Group:
    """An IAM group: its policies are its members' policies."""

    arn: str
    account_id: str
    name: str
    policies: tuple[PolicyDoc, ...] = ()
    managed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResourcePolicy:
    """A resource-based policy (bucket, key, queue, topic, secret, function, repository …)."""

    arn: str
    kind: str  # s3 | kms | sqs | sns | secretsmanager | lambda | ecr | efs
    account_id: str
    region: str
    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Target:
    """A concrete resource effective access is computed on (`policy_arn`: whose policy applies)."""

    arn: str
    kind: str
    account_id: str
    policy_arn: str | None = None


@dataclass(frozen=True, slots=True)
class Carrier:
    """A resource that runs with a role (a Lambda function, an EC2 instance …)."""

    arn: str
    role_arn: str
    service: str  # the service principal the role is used by, e.g. lambda.amazonaws.com
    note: str = ""


@dataclass(frozen=True, slots=True)
class Share:
    """A resource shared by attribute, not by policy (snapshot volume or AMI launch permission).

    The grantee is `all` (type group), an account id, or an organization / OU ARN.
    """

    arn: str
    kind: str  # ebs-snapshot | rds-snapshot | rds-cluster-snapshot | ami
    account_id: str
    region: str
    attribute: str
    grantee_type: str
    grantee: str


@dataclass(slots=True)
class Estate:
    """Everything the IAM analyses read; `scp` is the Organization's SCP levels, or None."""

    principals: dict[str, Principal] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    managed: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, ResourcePolicy] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    carriers: list[Carrier] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)
    org_accounts: set[str] = field(default_factory=set)  # the collected Organization's accounts
    scp: Sequence[Sequence[Document]] | None = None
    scp_by_account: Mapping[str, Sequence[Sequence[Document]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def scp_for(self, account_id: str) -> Sequence[Sequence[Document]] | None:
        """The SCP levels over an account: those given explicitly, else the collected ones.

        None for an account outside the Organization and for its management account, which
        SCPs never restrict.
        """
        return self.scp if self.scp is not None else self.scp_by_account.get(account_id)

    def users(self) -> list[Principal]:
        """The users, in ARN order."""
        return [p for _, p in sorted(self.principals.items()) if p.kind == "user"]

    def roles(self) -> list[Principal]:
        """The roles, in ARN order."""
        return [p for _, p in sorted(self.principals.items()) if p.kind == "role"]

    def policy_for(self, resource_arn: str) -> ResourcePolicy | None:
        """The resource policy that governs an ARN (an S3 object is governed by its bucket's)."""
        found = self.resources.get(resource_arn)
        if found is None and resource_arn.startswith("arn:aws:s3:::") and "/" in resource_arn:
            found = self.resources.get(resource_arn.split("/", 1)[0])
        return found

    def account_of(self, resource_arn: str) -> str | None:
        """The account that owns a resource: from its ARN, or from the lake for S3 buckets."""
        parts = resource_arn.split(":")
        if len(parts) >= 6 and parts[4]:
            return parts[4]
        policy = self.policy_for(resource_arn)
        if policy is not None:
            return policy.account_id
        bucket = resource_arn.split("/", 1)[0]
        return next((t.account_id for t in self.targets if t.arn.split("/", 1)[0] == bucket), None)
