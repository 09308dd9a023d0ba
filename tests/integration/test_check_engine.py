"""The check engine: NOT_ASSESSED instead of PASS when data is missing, and SQL contracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencwpp.checks import load_check, run_check
from opencwpp.core.errors import CheckDefinitionError
from opencwpp.core.models import Status
from opencwpp.lake import Lake, Scope, table

BUCKETS = table("aws_s3_buckets", ["account_id", "region", "arn", "name"], cq_id_from=["arn"])
SCOPES = table("cwpp_sync_scopes", ["table_name", "account_id", "region", "status", "reason"])
META = """\
id: demo_no_public
title: Demo check title
service: s3
resource_type: AwsS3Bucket
pillar: access-control
severity: high
tables: [aws_s3_buckets]
description: Fails for buckets named public.
risk: Demo risk text.
remediation: Demo remediation.
"""


def _check(tmp_path: Path, sql: str):  # type: ignore[no-untyped-def]
    folder = tmp_path / "demo_no_public"
    folder.mkdir(exist_ok=True)
    (folder / "metadata.yaml").write_text(META)
    (folder / "check.sql").write_text(sql)
    return load_check(folder)


SQL = (
    "SELECT arn AS resource_uid, name AS resource_name, account_id, region, "
    "CASE WHEN name = 'public' THEN 'FAIL' ELSE 'PASS' END AS status, 'x' AS detail "
    "FROM aws_s3_buckets"
)


def test_missing_table_is_not_assessed_never_pass(lake: Lake, tmp_path: Path) -> None:
    findings = run_check(lake, _check(tmp_path, SQL))
    assert [(f.status, f.status_reason) for f in findings] == [
        (Status.NOT_ASSESSED, "not collected: aws_s3_buckets")
    ]


def test_scopes_not_assessed_are_reported(lake: Lake, tmp_path: Path) -> None:
    lake.replace_scope(
        Scope("111"),
        {
            BUCKETS: [
                {
                    "account_id": "111",
                    "region": "us-east-1",
                    "arn": "arn:aws:s3:::public",
                    "name": "public",
                },
                {
                    "account_id": "111",
                    "region": "us-east-1",
                    "arn": "arn:aws:s3:::ok",
                    "name": "ok",
                },
            ]
        },
    )
    lake.ensure_tables([SCOPES])
    lake.insert_rows(
        SCOPES,
        [
            {
                "_cq_id": "00000000-0000-0000-0000-000000000001",
                "table_name": "aws_s3_buckets",
                "account_id": "222",
                "region": "",
                "status": "not_assessed",
                "reason": "AccessDenied: s3:ListAllMyBuckets",
            }
        ],
    )
    got = {(f.resource.uid, f.status) for f in run_check(lake, _check(tmp_path, SQL))}
    assert got == {
        ("arn:aws:s3:::public", Status.FAIL),
        ("arn:aws:s3:::ok", Status.PASS),
        ("aws:222:global:s3", Status.NOT_ASSESSED),
    }


def test_sql_output_contract_is_enforced(lake: Lake, tmp_path: Path) -> None:
    lake.replace_scope(
        Scope("111"),
        {BUCKETS: [{"account_id": "111", "region": "x", "arn": "arn:aws:s3:::b", "name": "b"}]},
    )
    with pytest.raises(CheckDefinitionError, match="must return the column"):
        run_check(lake, _check(tmp_path, "SELECT arn AS resource_uid FROM aws_s3_buckets"))
    bad_status = SQL.replace("'PASS'", "'MAYBE'")
    with pytest.raises(CheckDefinitionError, match="status must be PASS or FAIL"):
        run_check(lake, _check(tmp_path, bad_status))


def test_empty_reference_data_is_not_assessed(lake: Lake, tmp_path: Path) -> None:
    folder = tmp_path / "demo_no_public"
    folder.mkdir()
    (folder / "metadata.yaml").write_text(
        META.replace(
            "tables: [aws_s3_buckets]",
            "tables: [aws_s3_buckets]\nreference_tables: [aws_s3_buckets]",
        )
    )
    (folder / "check.sql").write_text(SQL)
    check = load_check(folder)
    lake.ensure_tables([BUCKETS])
    assert [(f.status, f.status_reason) for f in run_check(lake, check)] == [
        (Status.NOT_ASSESSED, "no reference data loaded: aws_s3_buckets")
    ]
    lake.replace_scope(
        Scope("111"),
        {
            BUCKETS: [
                {"account_id": "111", "region": "x", "arn": "arn:aws:s3:::public", "name": "public"}
            ]
        },
    )
    assert [f.status for f in run_check(lake, check)] == [Status.FAIL]


def test_shared_views_exist_only_when_their_tables_do(lake: Lake) -> None:
    from opencwpp.catalog import lake_tables
    from opencwpp.checks.views import builtin_views, names_with_views

    view = builtin_views().get("cwpp_aws_public_policy_statements")
    assert view.name not in names_with_views(lake)
    catalog = lake_tables()
    lake.ensure_tables([catalog[t] for t in sorted(view.tables)])
    assert view.name in names_with_views(lake)
    assert lake.query(f"SELECT * FROM {view.name}") == []
