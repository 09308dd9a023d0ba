"""Loading the IAM estate from the inventory tables: who has which policies, what has which policy.

Per user: its inline and attached managed policies (default version) plus those of its groups,
and its permissions boundary; per role: the same and its trust policy. Resource policies come
from the S3, KMS, SQS, SNS, Secrets Manager, Lambda, ECR and EFS tables. JSON columns come back
as text from DuckDB and as objects from PostgreSQL; both are accepted. Organization SCPs come from
the collected Organization (`lake_scps`), unless the caller passes levels explicitly.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from opencwpp.iam.estate import (
    Carrier,
    Estate,
    Group,
    PolicyDoc,
    Principal,
    ResourcePolicy,
    Share,
    Target,
)
from opencwpp.iam.lake_scps import load_scp_levels, organization_accounts
from opencwpp.iam.model import Document
from opencwpp.lake import Lake

# (table, ARN column, document column, kind): every resource policy we collect.
RESOURCE_POLICY_TABLES = (
    ("aws_s3_bucket_policies", "bucket_arn", "policy_json", "s3"),
    ("aws_kms_key_policies", "key_arn", "policy", "kms"),
    ("aws_sqs_queues", "arn", "policy", "sqs"),
    ("aws_sns_topics", "arn", "policy", "sns"),
    ("aws_secretsmanager_secrets", "arn", "policy", "secretsmanager"),
    ("aws_lambda_functions", "arn", "policy_document", "lambda"),
    ("aws_ecr_repository_policies", "repository_arn", "policy_json", "ecr"),
    ("aws_efs_filesystems", "arn", "file_system_policy", "efs"),
)


def as_document(value: Any) -> dict[str, Any] | None:
    """A JSON column's value as a dict: DuckDB gives text, PostgreSQL gives objects."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
        if isinstance(value, str):  # JSON text stored as a JSON string
            return as_document(value)
    return value if isinstance(value, dict) else None


def _rows(lake: Lake, tbl: str, columns: Sequence[str]) -> list[dict[str, Any]]:
    if not lake.table_exists(tbl):
        return []
    cols = ", ".join(f'"{c}"' for c in columns)
    return lake.query(f'SELECT {cols} FROM "{tbl}"')


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[str(row[key])].append(row)
    return out


def _managed(lake: Lake) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in _rows(
        lake, "aws_iam_policy_versions", ["policy_arn", "document_json", "is_default_version"]
    ):
        doc = as_document(row["document_json"])
        if doc is not None and row["is_default_version"] in (True, None):
            out[str(row["policy_arn"])] = doc
    return out


class _Builder:
    """Reads the identity tables once and assembles principals."""

    def __init__(self, lake: Lake, estate: Estate) -> None:
        self.lake, self.estate = lake, estate

    def inline(self, tbl: str, owner: str, owner_arn: str, name: str, doc: Any) -> PolicyDoc | None:
        parsed = as_document(doc)
        if parsed is None:
            self.estate.warnings.append(f"{tbl}: policy {name!r} of {owner_arn} is not JSON")
            return None
        return PolicyDoc(f"inline:{owner}/{name}", parsed)

    def attached(self, arns: list[str], owner: str) -> list[PolicyDoc]:
        out = []
        for arn in arns:
            doc = self.estate.managed.get(arn)
            if doc is None:
                self.estate.warnings.append(f"{owner}: attached policy {arn} was not collected")
                continue
            out.append(PolicyDoc(arn, doc))
        return out

    def boundary(self, value: Any, owner: str) -> PolicyDoc | None:
        info = as_document(value)
        arn = (info or {}).get("PermissionsBoundaryArn")
        if not arn:
            return None
        doc = self.estate.managed.get(str(arn))
        if doc is None:
            self.estate.warnings.append(
                f"{owner}: permissions boundary {arn} was not collected; analysed without it"
            )
            return None
        return PolicyDoc(str(arn), doc)

    def groups(self) -> None:
        attached = _by(
            _rows(self.lake, "aws_iam_group_attached_policies", ["group_arn", "policy_arn"]),
            "group_arn",
        )
        inline = _by(
            _rows(
                self.lake, "aws_iam_group_policies", ["group_arn", "policy_name", "policy_document"]
            ),
            "group_arn",
        )
        for row in _rows(self.lake, "aws_iam_groups", ["arn", "account_id", "group_name"]):
            arn, name = str(row["arn"]), str(row["group_name"])
            arns = [str(r["policy_arn"]) for r in attached.get(arn, [])]
            docs = self.attached(arns, arn)
            for r in inline.get(arn, []):
                doc = self.inline(
                    "aws_iam_group_policies",
                    f"group/{name}",
                    arn,
                    str(r["policy_name"]),
                    r["policy_document"],
                )
                docs += [doc] if doc else []
            self.estate.groups[arn] = Group(
                arn, str(row["account_id"]), name, tuple(docs), tuple(arns)
            )

    def principals(self, kind: str) -> None:
        prefix = f"aws_iam_{kind}"
        attached = _by(
            _rows(self.lake, f"{prefix}_attached_policies", [f"{kind}_arn", "policy_arn"]),
            f"{kind}_arn",
        )
        inline = _by(
            _rows(
                self.lake, f"{prefix}_policies", [f"{kind}_arn", "policy_name", "policy_document"]
            ),
            f"{kind}_arn",
        )
        memberships = (
            _by(_rows(self.lake, "aws_iam_user_groups", ["user_arn", "arn"]), "user_arn")
            if kind == "user"
            else {}
        )
        extra = ["assume_role_policy_document"] if kind == "role" else []
        rows = _rows(
            self.lake,
            f"{prefix}s",
            ["arn", "account_id", f"{kind}_name", "permissions_boundary", *extra],
        )
        for row in rows:
            arn, name = str(row["arn"]), str(row[f"{kind}_name"])
            arns = [str(r["policy_arn"]) for r in attached.get(arn, [])]
            docs = self.attached(arns, arn)
            for r in inline.get(arn, []):
                doc = self.inline(
                    f"{prefix}_policies",
                    f"{kind}/{name}",
                    arn,
                    str(r["policy_name"]),
                    r["policy_document"],
                )
                docs += [doc] if doc else []
            groups = tuple(str(m["arn"]) for m in memberships.get(arn, []))
            managed = list(arns)
            for group_arn in groups:
                group = self.estate.groups.get(group_arn)
                if group is not None:
                    docs += list(group.policies)
                    managed += list(group.managed)
            self.estate.principals[arn] = Principal(
                arn=arn,
                kind=kind,
                account_id=str(row["account_id"]),
                name=name,
                policies=tuple(docs),
                boundary=self.boundary(row["permissions_boundary"], arn),
                groups=groups,
                managed=tuple(dict.fromkeys(managed)),
                trust=as_document(row["assume_role_policy_document"]) if kind == "role" else None,
            )


def _resources(lake: Lake, estate: Estate) -> None:
    for tbl, arn_col, doc_col, kind in RESOURCE_POLICY_TABLES:
        for row in _rows(
            lake, tbl, [arn_col, doc_col, "account_id", *(["region"] if kind != "s3" else [])]
        ):
            doc = as_document(row[doc_col])
            if doc is None:
                continue
            arn = str(row[arn_col])
            region = str(row.get("region") or "")
            estate.resources[arn] = ResourcePolicy(arn, kind, str(row["account_id"]), region, doc)
    for row in _rows(lake, "aws_s3_buckets", ["arn", "account_id"]):
        bucket = str(row["arn"])
        estate.targets.append(Target(f"{bucket}/*", "s3", str(row["account_id"]), bucket))
    for tbl, kind in (("aws_kms_keys", "kms"), ("aws_secretsmanager_secrets", "secretsmanager")):
        for row in _rows(lake, tbl, ["arn", "account_id"]):
            estate.targets.append(
                Target(str(row["arn"]), kind, str(row["account_id"]), str(row["arn"]))
            )


def _carriers(lake: Lake, estate: Estate) -> None:
    for row in _rows(lake, "aws_lambda_functions", ["arn", "configuration"]):
        role = (as_document(row["configuration"]) or {}).get("Role")
        if role:
            estate.carriers.append(Carrier(str(row["arn"]), str(role), "lambda.amazonaws.com"))
    for instance, role, note in _instance_roles(lake, estate):
        estate.carriers.append(Carrier(instance, role, "ec2.amazonaws.com", note))


def _profile_roles(value: Any) -> list[str]:
    """The role ARNs in a profile's `roles` (JSON text from DuckDB, a list from PostgreSQL)."""
    roles = json.loads(value) if isinstance(value, str) else value
    if not isinstance(roles, list):
        return []
    return [str(r["Arn"]) for r in roles if isinstance(r, Mapping) and r.get("Arn")]


def _instance_roles(lake: Lake, estate: Estate) -> list[tuple[str, str, str]]:
    """(instance ARN, role ARN, how the role was found) for every instance with a profile.

    The collected instance profiles say which role each profile holds. Without them (the
    profiles were not collected), a role named like the profile is the best guess, and says so.
    """
    collected = lake.table_exists("aws_iam_instance_profiles")
    held: dict[str, list[str]] = {}
    for row in _rows(lake, "aws_iam_instance_profiles", ["arn", "roles"]):
        held[str(row["arn"])] = _profile_roles(row["roles"])
    roles_by_name = {p.name: p.arn for p in estate.principals.values() if p.kind == "role"}
    found: list[tuple[str, str, str]] = []
    for row in _rows(lake, "aws_ec2_instances", ["arn", "iam_instance_profile"]):
        profile = (as_document(row["iam_instance_profile"]) or {}).get("Arn")
        if not profile:
            continue
        profile, instance = str(profile), str(row["arn"])
        if collected:
            roles = held.get(profile)
            if roles is None:
                estate.warnings.append(f"{instance}: instance profile {profile} was not collected")
            for role in roles or []:
                found.append((instance, role, f"through instance profile {profile}"))
            continue
        guess = roles_by_name.get(profile.rsplit("/", 1)[-1])
        if guess is None:
            estate.warnings.append(f"{instance}: no role named like instance profile {profile}")
            continue
        found.append((instance, guess, "instance profile matched to the role of the same name"))
    return found


SHARE_KINDS = {
    "aws_ec2_ebs_snapshots": "ebs-snapshot",
    "aws_rds_db_snapshots": "rds-snapshot",
    "aws_rds_cluster_snapshots": "rds-cluster-snapshot",
    "aws_ec2_images": "ami",
}


def _shares(lake: Lake, estate: Estate) -> None:
    columns = ["source_table", "resource_arn", "account_id", "region", "attribute"]
    for row in _rows(lake, "cwpp_aws_resource_shares", [*columns, "grantee_type", "grantee"]):
        kind = SHARE_KINDS.get(str(row["source_table"]))
        if kind is None:
            continue
        estate.shares.append(
            Share(
                str(row["resource_arn"]),
                kind,
                str(row["account_id"]),
                str(row["region"] or ""),
                str(row["attribute"]),
                str(row["grantee_type"]),
                str(row["grantee"]),
            )
        )


def load_estate(lake: Lake, scp: Sequence[Sequence[Document]] | None = None) -> Estate:
    """The estate from the lake; `scp`: the Organization's SCPs, one list per level, or None."""
    estate = Estate(scp=scp)
    estate.org_accounts = organization_accounts(lake)
    if scp is None:
        estate.scp_by_account, warnings = load_scp_levels(lake)
        estate.warnings += warnings
    estate.managed = _managed(lake)
    builder = _Builder(lake, estate)
    builder.groups()
    builder.principals("user")
    builder.principals("role")
    _resources(lake, estate)
    _carriers(lake, estate)
    _shares(lake, estate)
    return estate


def scp_levels(data: Any) -> list[list[Mapping[str, Any]]]:
    """SCP levels from JSON: a list of levels (lists of documents), or one level's list."""
    if not isinstance(data, list) or not data:
        raise ValueError("SCPs must be a JSON list of levels, each a list of policy documents")
    if all(isinstance(d, dict) for d in data):
        return [list(data)]
    if all(isinstance(level, list) and all(isinstance(d, dict) for d in level) for level in data):
        return [list(level) for level in data]
    raise ValueError("SCPs must be a JSON list of levels, each a list of policy documents")
