"""Check folders: validation errors name the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencwpp.checks import builtin_checks, discover, load_check
from opencwpp.core.errors import CheckDefinitionError

GOOD_META = """\
id: demo_check
title: A demo check title
service: s3
resource_type: AwsS3Bucket
pillar: access-control
severity: high
tables: [aws_s3_buckets]
description: Describes the demo check.
risk: What goes wrong when it fails.
remediation: How to fix the demo thing.
"""
GOOD_SQL = (
    "SELECT arn AS resource_uid, name AS resource_name, account_id, region, "
    "'PASS' AS status, '' AS detail FROM aws_s3_buckets"
)


def _folder(
    tmp_path: Path, meta: str = GOOD_META, sql: str = GOOD_SQL, name: str = "demo_check"
) -> Path:
    folder = tmp_path / "aws" / "s3" / name
    folder.mkdir(parents=True)
    (folder / "metadata.yaml").write_text(meta)
    (folder / "check.sql").write_text(sql)
    return folder


def test_good_check_loads(tmp_path: Path) -> None:
    check = load_check(_folder(tmp_path))
    assert check.id == "demo_check"
    assert check.meta.remediation == "How to fix the demo thing."


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (GOOD_META.replace("severity: high", "severity: huge"), "severity"),
        (GOOD_META.replace("pillar: access-control\n", ""), "pillar: Field required"),
        (GOOD_META + "colour: blue\n", "colour: Extra inputs are not permitted"),
        (GOOD_META.replace("tables: [aws_s3_buckets]", "tables: []"), "tables"),
        ("id: [unclosed", "metadata.yaml"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_bad_metadata_names_file_and_key(tmp_path: Path, meta: str, message: str) -> None:
    folder = _folder(tmp_path, meta=meta)
    with pytest.raises(CheckDefinitionError, match=message) as err:
        load_check(folder)
    assert str(folder / "metadata.yaml") in str(err.value)


def test_id_must_match_folder(tmp_path: Path) -> None:
    with pytest.raises(CheckDefinitionError, match="differs from its folder name"):
        load_check(_folder(tmp_path, name="other_name"))


def test_sql_must_parse_and_be_one_statement(tmp_path: Path) -> None:
    with pytest.raises(CheckDefinitionError, match=r"check\.sql"):
        load_check(_folder(tmp_path, sql="SELECT FROM WHERE ((("))
    with pytest.raises(CheckDefinitionError, match="exactly one"):
        load_check(_folder(tmp_path / "second", sql=GOOD_SQL + "; SELECT 1"))


def test_discover_finds_folders(tmp_path: Path) -> None:
    _folder(tmp_path)
    assert discover(tmp_path).keys() == ["demo_check"]


def test_builtin_checks_load_and_cover_both_pillars() -> None:
    checks = list(builtin_checks())
    assert len(checks) >= 15
    pillars = {c.meta.pillar.value for c in checks}
    assert {"access-control", "data-encryption"} <= pillars


def test_reference_tables_must_be_read_by_the_check(tmp_path: Path) -> None:
    meta = GOOD_META + "reference_tables: [cwpp_eol]\n"
    with pytest.raises(CheckDefinitionError, match="reference_tables not listed in tables"):
        load_check(_folder(tmp_path, meta=meta))


def test_like_without_escape_is_rejected_on_load(tmp_path: Path) -> None:
    bad = GOOD_SQL + " WHERE name LIKE 'a_%'"
    with pytest.raises(CheckDefinitionError, match=r"check\.sql: add ESCAPE"):
        load_check(_folder(tmp_path, sql=bad))
    good = GOOD_SQL + " WHERE name NOT ILIKE 'a\\_%' ESCAPE '\\'"
    assert load_check(_folder(tmp_path / "ok", sql=good)).id == "demo_check"


def test_relative_dates_inside_text_and_json_case_values() -> None:
    from datetime import UTC, datetime

    from opencwpp.checks.cases import relative_text

    now = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    value = {"eol": "@today-10d", "nested": [{"at": "@now+2h"}, "@now"], "plain": "@nowhere"}
    assert relative_text(value, now) == {
        "eol": "2026-02-28",
        "nested": [{"at": "2026-03-10T14:30:00Z"}, "2026-03-10T12:30:00Z"],
        "plain": "@nowhere",
    }
    assert relative_text(42, now) == 42
