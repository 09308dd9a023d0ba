"""AWS Organizations: the organization, its accounts and OUs (tree), and its SCPs/RCPs.

Any member can describe its organization; the structure and the policies are readable only
from the management account or a delegated administrator (elsewhere AccessDenied: recorded as
not assessed). An account outside any organization gives empty tables, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from opencwpp.collect.aws._shape import columns, empty, extend, shape, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, split_policy
from opencwpp.collect.base import Resource, Rows, SessionContext, error_code, paginate, register
from opencwpp.lake.schema import Table, table

ORGANIZATIONS = table(
    "aws_organizations",
    columns(
        "request_account_id arn feature_set id master_account_arn master_account_email "
        "master_account_id"
    ),
    cq_id_from=["request_account_id", "arn"],
)
ACCOUNTS = table(
    "aws_organizations_accounts",
    columns(
        "request_account_id tags:json arn email id joined_method joined_timestamp:ts name status"
    ),
    cq_id_from=["request_account_id", "arn"],
)
ACCOUNT_PARENTS = table(
    "aws_organizations_account_parents",
    columns("request_account_id id parent_id type"),
    cq_id_from=["request_account_id", "id", "parent_id", "type"],
    parent="aws_organizations_accounts",
)
ROOTS = table(
    "aws_organizations_roots",
    columns("request_account_id tags:json arn id name policy_types:json"),
    cq_id_from=["request_account_id", "arn"],
)
OUS = table(
    "aws_organizations_organizational_units",
    columns("request_account_id arn id name"),
    cq_id_from=["request_account_id", "arn"],
)
OU_PARENTS = table(
    "aws_organizations_organizational_unit_parents",
    columns("request_account_id id parent_id type"),
    cq_id_from=["request_account_id", "id", "parent_id", "type"],
    parent="aws_organizations_organizational_units",
)
POLICIES = table(
    "aws_organizations_policies",
    columns("account_id content:json arn aws_managed:bool description id name type"),
    cq_id_from=["account_id", "arn"],
)
# CloudQuery has no table for where a policy is attached: ours, a child of the policy.
POLICY_TARGETS = table(
    "cwpp_aws_organizations_policy_targets",
    columns("account_id policy_arn policy_id target_id target_arn name type"),
    cq_id_from=["account_id", "policy_arn", "target_id"],
    parent="aws_organizations_policies",
    description="Where each SCP/RCP is attached: root, OU or account.",
)
STRUCTURE_TABLES = (ACCOUNTS, ACCOUNT_PARENTS, ROOTS, OUS, OU_PARENTS)
POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
# The account is in no organization: nothing to collect, not an error.
_NOT_IN_USE = frozenset({"AWSOrganizationsNotInUseException"})
# The organization does not offer this policy type (e.g. consolidated billing only).
_TYPE_ABSENT = frozenset(
    {"PolicyTypeNotEnabledException", "PolicyTypeNotAvailableForOrganizationException"}
)
_PARENT_TYPES = {"r-": "ROOT", "ou-": "ORGANIZATIONAL_UNIT"}


def _parent_type(parent_id: str) -> str:
    return next((t for p, t in _PARENT_TYPES.items() if parent_id.startswith(p)), "ROOT")


def transform_organization(account_id: str, org: Mapping[str, Any]) -> Rows:
    """The row of the organization as the requesting account sees it."""
    row = shape(ORGANIZATIONS, org, request_account_id=account_id)
    return {ORGANIZATIONS: [with_ids(ORGANIZATIONS, row)]}


def transform_structure(
    account_id: str,
    roots: list[Mapping[str, Any]],
    ous: list[tuple[str, Mapping[str, Any]]],
    accounts: list[tuple[str, Mapping[str, Any], list[Mapping[str, Any]]]],
) -> Rows:
    """Rows of roots, OUs and accounts; `ous` and `accounts` carry their parent's id."""
    out = empty(STRUCTURE_TABLES)
    req: dict[str, Any] = {"request_account_id": account_id}
    for root in roots:
        out[ROOTS].append(with_ids(ROOTS, shape(ROOTS, root, tags={}, **req)))
    for parent_id, ou in ous:
        parent = with_ids(OUS, shape(OUS, ou, **req))
        out[OUS].append(parent)
        link = {"id": ou["Id"], "parent_id": parent_id, "type": _parent_type(parent_id), **req}
        out[OU_PARENTS].append(with_ids(OU_PARENTS, link, parent))
    for parent_id, account, tags in accounts:
        parent = with_ids(ACCOUNTS, shape(ACCOUNTS, account, tags=tags, **req))
        out[ACCOUNTS].append(parent)
        link = {"id": account["Id"], "parent_id": parent_id, "type": _parent_type(parent_id)}
        out[ACCOUNT_PARENTS].append(with_ids(ACCOUNT_PARENTS, {**link, **req}, parent))
    return out


def transform_policy(
    account_id: str,
    summary: Mapping[str, Any],
    content: str | None,
    targets: list[Mapping[str, Any]],
) -> Rows:
    """The policy row, its targets and its statements (split like every other policy)."""
    policy_arn = str(summary["Arn"])
    parent = with_ids(POLICIES, shape(POLICIES, summary, account_id=account_id, content=content))
    out = empty((POLICIES, POLICY_TARGETS, *POLICY_TABLES))
    out[POLICIES].append(parent)
    for target in targets:
        row = shape(
            POLICY_TARGETS,
            target,
            account_id=account_id,
            policy_arn=policy_arn,
            policy_id=summary.get("Id"),
            target_arn=target.get("Arn"),
        )
        out[POLICY_TARGETS].append(with_ids(POLICY_TARGETS, row, parent))
    if content:
        extend(
            out,
            split_policy(
                content,
                account_id=account_id,
                source_table=POLICIES.name,
                source_arn=policy_arn,
                policy_name=str(summary.get("Name", "")),
            ),
        )
    return out


def _in_organization(call: Any, tables: tuple[Table, ...]) -> Rows | None:
    """Runs `call()`; empty rows of `tables` when the account is in no organization."""
    try:
        result: Rows | None = call()
    except ClientError as err:
        if error_code(err) in _NOT_IN_USE:
            return empty(tables)
        raise
    return result


def fetch_organization(ctx: SessionContext, region: str | None) -> Rows:
    """The organization the account belongs to (none when it belongs to none)."""
    client = ctx.client("organizations")

    def call() -> Rows:
        org = client.describe_organization()["Organization"]
        return transform_organization(ctx.account_id, org)

    return _in_organization(call, (ORGANIZATIONS,)) or empty((ORGANIZATIONS,))


def _walk(client: Any, account_id: str) -> Rows:
    """The organization tree, walked from its roots."""
    roots = paginate(client, "list_roots", "Roots")
    ous: list[tuple[str, Mapping[str, Any]]] = []
    accounts: list[tuple[str, Mapping[str, Any], list[Mapping[str, Any]]]] = []
    pending = [str(r["Id"]) for r in roots]
    while pending:
        parent_id = pending.pop()
        for ou in paginate(
            client,
            "list_organizational_units_for_parent",
            "OrganizationalUnits",
            ParentId=parent_id,
        ):
            ous.append((parent_id, ou))
            pending.append(str(ou["Id"]))
        for account in paginate(client, "list_accounts_for_parent", "Accounts", ParentId=parent_id):
            tags = paginate(client, "list_tags_for_resource", "Tags", ResourceId=account["Id"])
            accounts.append((parent_id, account, tags))
    return transform_structure(account_id, roots, ous, accounts)


def fetch_structure(ctx: SessionContext, region: str | None) -> Rows:
    """Roots, OUs and accounts with their parents (management or delegated admin only)."""
    client = ctx.client("organizations")
    rows = _in_organization(lambda: _walk(client, ctx.account_id), STRUCTURE_TABLES)
    return rows or empty(STRUCTURE_TABLES)


def _policies_of_type(client: Any, account_id: str, policy_type: str) -> Rows:
    out = empty((POLICIES, POLICY_TARGETS, *POLICY_TABLES))
    try:
        summaries = paginate(client, "list_policies", "Policies", Filter=policy_type)
    except ClientError as err:
        if error_code(err) in _TYPE_ABSENT:
            return out
        raise
    for summary in summaries:
        policy = client.describe_policy(PolicyId=summary["Id"])["Policy"]
        targets = paginate(client, "list_targets_for_policy", "Targets", PolicyId=summary["Id"])
        extend(out, transform_policy(account_id, summary, policy.get("Content"), targets))
    return out


def fetch_policies(ctx: SessionContext, region: str | None) -> Rows:
    """Every SCP and RCP with its JSON content and where it is attached."""
    client = ctx.client("organizations")
    tables = (POLICIES, POLICY_TARGETS, *POLICY_TABLES)

    def call() -> Rows:
        out = empty(tables)
        for policy_type in POLICY_TYPES:
            extend(out, _policies_of_type(client, ctx.account_id, policy_type))
        return out

    return _in_organization(call, tables) or empty(tables)


_ORG = "organizations"
register(
    Resource(
        name="organizations.organization",
        service=_ORG,
        tables=(ORGANIZATIONS,),
        permissions=("organizations:DescribeOrganization",),
        fetch=fetch_organization,
        global_service=True,
        description="The AWS Organization the account belongs to.",
    )
)
register(
    Resource(
        name="organizations.structure",
        service=_ORG,
        tables=STRUCTURE_TABLES,
        permissions=(
            "organizations:ListRoots",
            "organizations:ListOrganizationalUnitsForParent",
            "organizations:ListAccountsForParent",
            "organizations:ListTagsForResource",
        ),
        fetch=fetch_structure,
        global_service=True,
        description="Organization roots, OUs and accounts (management/delegated admin only).",
    )
)
register(
    Resource(
        name="organizations.policies",
        service=_ORG,
        tables=(POLICIES, POLICY_TARGETS, *POLICY_TABLES),
        permissions=(
            "organizations:ListPolicies",
            "organizations:DescribePolicy",
            "organizations:ListTargetsForPolicy",
        ),
        fetch=fetch_policies,
        global_service=True,
        description="Service and resource control policies with content and targets.",
    )
)
