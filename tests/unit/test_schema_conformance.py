"""Collector tables match CloudQuery's AWS schema; every collector declares read-only access."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from opencwpp.collect.base import all_tables, is_read_only, load_resources

REPO = Path(__file__).resolve().parents[2]


def _cloudquery_tables() -> dict[str, Any]:
    data = Path(os.environ.get("CWPP_SHARED_DATA", REPO.parent / "shared" / "data"))
    path = data / "cloudquery-schema" / "aws_tables.json"
    if not path.exists():
        message = f"CloudQuery schema reference {path} is absent (set CWPP_SHARED_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    tables: dict[str, Any] = json.loads(path.read_text())["tables"]
    # Tables outside the detailed CWPP set are in the compact index of all 706 tables.
    compact = json.loads((path.parent / "aws_tables_all.json").read_text())["tables"]
    for name, ref in compact.items():
        if name not in tables:
            tables[name] = {
                "columns": [{"name": n, "type": t} for n, t in ref["cols"]],
                "cq_id_from": ref.get("cq_id_from"),
                "parent": ref.get("parent"),
            }
    return tables


def test_cloudquery_named_tables_match_the_reference() -> None:
    reference = _cloudquery_tables()
    ours = {name: t for name, t in all_tables().items() if name.startswith("aws_")}
    assert ours, "no CloudQuery-named tables declared"
    problems: list[str] = []
    for name, tbl in sorted(ours.items()):
        ref = reference.get(name)
        if ref is None:
            problems.append(f"{name}: not in the CloudQuery reference")
            continue
        expected = {c["name"]: c["type"] for c in ref["columns"]}
        actual = {c.name: c.type for c in tbl.columns}
        if expected != actual:
            missing = sorted(set(expected) - set(actual))
            extra = sorted(set(actual) - set(expected))
            wrong = sorted(
                f"{c}: {actual[c]} != {expected[c]}"
                for c in set(expected) & set(actual)
                if expected[c] != actual[c]
            )
            problems.append(f"{name}: missing {missing} extra {extra} types {wrong}")
        if list(tbl.cq_id_from) != list(ref.get("cq_id_from") or []):
            problems.append(f"{name}: cq_id_from {tbl.cq_id_from} != {ref.get('cq_id_from')}")
        if tbl.parent != ref.get("parent"):
            problems.append(f"{name}: parent {tbl.parent} != {ref.get('parent')}")
    assert not problems, "\n".join(problems)


def test_every_resource_declares_read_only_permissions_and_known_tables() -> None:
    tables = all_tables()
    resources = list(load_resources())
    assert len(resources) >= 10
    for resource in resources:
        assert resource.permissions, f"{resource.name} declares no permissions"
        writes = [p for p in resource.permissions if not is_read_only(p)]
        assert not writes, f"{resource.name} needs non-read-only permissions: {writes}"
        assert resource.name.startswith(f"{resource.service}."), resource.name
        for tbl in resource.tables:
            assert tables.get(tbl.name) is tbl, f"{resource.name}: {tbl.name} not in all_tables()"
    assert "cwpp_aws_policy_statements" in tables
    assert "cwpp_aws_ec2_security_group_rules" in tables


def test_read_only_rule() -> None:
    assert is_read_only("s3:GetBucketPolicy")
    assert is_read_only("iam:GenerateCredentialReport")
    assert not is_read_only("s3:PutBucketPolicy")
    assert not is_read_only("iam:CreateAccessKey")


def test_declared_permissions_exist_and_are_reads_per_the_iam_catalog() -> None:
    from opencwpp.collect.base import least_privilege_policy
    from opencwpp.iam.catalog import access_level, action_exists

    actions = least_privilege_policy()["Statement"][0]["Action"]
    unknown = [a for a in actions if not action_exists(a)]
    assert not unknown, f"permissions not in the IAM catalog: {unknown}"
    # GenerateCredentialReport is the one documented exception (it writes only the report).
    writes = [
        a
        for a in actions
        if access_level(a) not in ("List", "Read") and a != "iam:GenerateCredentialReport"
    ]
    assert not writes, f"permissions that are not List/Read: {writes}"
