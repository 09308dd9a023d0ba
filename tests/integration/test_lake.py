"""The lake on real DuckDB and real PostgreSQL: snapshots, ids, errors."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from opencwpp.core.errors import LakeError
from opencwpp.lake import Lake, Scope, table
from opencwpp.lake.schema import INT64, JSON, LIST_UTF8, TIMESTAMP

THINGS = table(
    "aws_test_things",
    ["account_id", "region", "arn", ("tags", JSON), ("size", INT64), ("created", TIMESTAMP)],
    cq_id_from=["account_id", "arn"],
)
DERIVED = table(
    "cwpp_test_derived", ["account_id", "source_table", "value"], partition_by="source_table"
)
OTHER = table("aws_test_other", ["account_id", "arn"], cq_id_from=["arn"])


def _thing(account: str, region: str, name: str, size: object = 1) -> dict[str, object]:
    return {
        "account_id": account,
        "region": region,
        "arn": f"arn:aws:test:{region}:{account}:thing/{name}",
        "tags": {"Name": name, "odd": "it's 100% <b>"},
        "size": size,
        "created": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    }


def _arns(lake: Lake) -> list[str]:
    return sorted(r["arn"] for r in lake.query("SELECT arn FROM aws_test_things"))


def test_replace_scope_swaps_only_its_account_and_region(lake: Lake) -> None:
    lake.replace_scope(Scope("111", "us-east-1"), {THINGS: [_thing("111", "us-east-1", "a")]})
    lake.replace_scope(Scope("111", "eu-west-1"), {THINGS: [_thing("111", "eu-west-1", "b")]})
    lake.replace_scope(Scope("222", "us-east-1"), {THINGS: [_thing("222", "us-east-1", "c")]})
    lake.replace_scope(Scope("111", "us-east-1"), {THINGS: [_thing("111", "us-east-1", "d")]})
    assert _arns(lake) == [
        "arn:aws:test:eu-west-1:111:thing/b",
        "arn:aws:test:us-east-1:111:thing/d",
        "arn:aws:test:us-east-1:222:thing/c",
    ]


def test_global_scope_replaces_every_region_of_the_account(lake: Lake) -> None:
    lake.replace_scope(Scope("111", "us-east-1"), {THINGS: [_thing("111", "us-east-1", "a")]})
    lake.replace_scope(Scope("111"), {THINGS: [_thing("111", "eu-west-1", "b")]})
    assert _arns(lake) == ["arn:aws:test:eu-west-1:111:thing/b"]


def test_failed_sync_leaves_the_previous_snapshot_whole(lake: Lake) -> None:
    lake.replace_scope(Scope("111", "us-east-1"), {THINGS: [_thing("111", "us-east-1", "a")]})
    broken = [_thing("111", "us-east-1", "b"), _thing("111", "us-east-1", "c", size="not a number")]
    with pytest.raises(Exception, match=r"(?i)conver|invalid|could not"):
        lake.replace_scope(Scope("111", "us-east-1"), {THINGS: broken})
    assert _arns(lake) == ["arn:aws:test:us-east-1:111:thing/a"]


def test_cq_id_is_deterministic_and_columns_round_trip(lake: Lake) -> None:
    lake.replace_scope(Scope("111", "us-east-1"), {THINGS: [_thing("111", "us-east-1", "a")]})
    first = lake.query("SELECT CAST(_cq_id AS VARCHAR) AS id FROM aws_test_things")[0]["id"]
    lake.replace_scope(Scope("111", "us-east-1"), {THINGS: [_thing("111", "us-east-1", "a")]})
    rows = lake.query(
        "SELECT CAST(_cq_id AS VARCHAR) AS id, tags->>'$.odd' AS odd, size, created, "
        "_cq_source_name FROM aws_test_things"
    )
    assert len(rows) == 1
    assert rows[0]["id"] == first
    assert rows[0]["odd"] == "it's 100% <b>"
    assert rows[0]["size"] == 1
    assert rows[0]["created"] == datetime(2024, 5, 1, 12, 0)
    assert rows[0]["_cq_source_name"] == "aws"


def test_derived_rows_of_other_sources_survive(lake: Lake) -> None:
    rows_a = [{"account_id": "111", "source_table": "aws_test_things", "value": "x"}]
    rows_b = [{"account_id": "111", "source_table": "aws_test_other", "value": "y"}]
    lake.replace_scope(Scope("111"), {THINGS: [], DERIVED: rows_a})
    lake.replace_scope(Scope("111"), {OTHER: [], DERIVED: rows_b})
    lake.replace_scope(Scope("111"), {OTHER: [], DERIVED: []})
    values = [r["value"] for r in lake.query("SELECT value FROM cwpp_test_derived")]
    assert values == ["x"]


def test_checks_sql_is_transpiled_for_the_backend(lake: Lake) -> None:
    lake.replace_scope(Scope("111", "us-east-1"), {THINGS: [_thing("111", "us-east-1", "a_b")]})
    rows = lake.query(
        "SELECT arn FROM aws_test_things WHERE tags->>'$.Name' LIKE 'a\\_%' ESCAPE '\\' "
        "AND created < current_timestamp - INTERVAL 30 DAY"
    )
    assert [r["arn"] for r in rows] == ["arn:aws:test:us-east-1:111:thing/a_b"]


def test_regexp_extract_all_means_the_same_on_both_backends(lake: Lake) -> None:
    # PostgreSQL has no regexp_extract_all; the transpiler builds it from regexp_matches.
    rows = lake.query(
        "SELECT regexp_extract_all('id=11, id=222; x=3', 'id=([0-9]+)', 1) AS groups, "
        "regexp_extract_all('id=11, id=222; x=3', '[0-9]+') AS whole, "
        "regexp_extract_all('none here', '[0-9]+') AS empty"
    )
    assert [list(rows[0][k]) for k in ("groups", "whole", "empty")] == [
        ["11", "222"],
        ["11", "222", "3"],
        [],
    ]
    unnested = lake.query(
        "SELECT g.v FROM (SELECT 'a1b22' AS s) AS t, "
        "unnest(regexp_extract_all(t.s, '([0-9]+)', 1)) AS g(v) ORDER BY g.v"
    )
    assert [r["v"] for r in unnested] == ["1", "22"]


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(LakeError, match="unknown lake URL scheme 'mysql'"):
        Lake.open("mysql://localhost/x")


def test_unreachable_postgres_names_the_url_without_password() -> None:
    with pytest.raises(
        LakeError, match=r"cannot reach PostgreSQL lake at postgresql://u:\*\*\*@127\.0\.0\.1:1/x"
    ):
        Lake.open("postgresql://u:secret@127.0.0.1:1/x")


def test_duckdb_url_forms(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for url in (f"duckdb://{tmp_path}/a.duckdb", f"duckdb:///{tmp_path}/b.duckdb"):
        Lake.open(url).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.duckdb", "b.duckdb"]


def test_regional_scopes_of_shared_and_request_region_tables(lake: Lake) -> None:
    derived = table(
        "cwpp_test_regional",
        ["account_id", "region", "source_table", "value"],
        partition_by="source_table",
    )
    subnets = table("aws_test_subnets", ["request_account_id", "request_region", "arn"])
    for region in ("us-east-1", "eu-west-1"):
        lake.replace_scope(
            Scope("111", region),
            {
                OTHER: [],
                derived: [
                    {
                        "account_id": "111",
                        "region": region,
                        "source_table": "aws_test_other",
                        "value": region,
                    }
                ],
                subnets: [
                    {
                        "request_account_id": "111",
                        "request_region": region,
                        "arn": f"arn:aws:ec2:{region}:111:subnet/s",
                    }
                ],
            },
        )
    assert sorted(r["value"] for r in lake.query("SELECT value FROM cwpp_test_regional")) == [
        "eu-west-1",
        "us-east-1",
    ]
    assert len(lake.query("SELECT arn FROM aws_test_subnets")) == 2


def test_a_nul_character_is_written_on_both_backends(lake: Lake) -> None:
    """Names, tags and logged parameters are the caller's: a NUL must not fail the write."""
    texts = table("cwpp_test_texts", ["name", ("doc", JSON), ("names", LIST_UTF8)])
    lake.ensure_tables([texts])
    lake.insert_rows(
        texts,
        [
            {"_cq_id": str(uuid.uuid4()), **row}
            for row in [
                {
                    "name": "a\x00b",
                    "doc": {"k\x00": ["v\x00", "\\u0000 stays"]},
                    "names": ["x\x00"],
                },
                {"name": "plain", "doc": {"k": "v"}, "names": ["y"]},
            ]
        ],
    )
    rows = lake.query(
        "SELECT name, CAST(doc AS VARCHAR) AS doc, names FROM cwpp_test_texts ORDER BY name"
    )
    # DuckDB keeps NUL; PostgreSQL's text and jsonb cannot, so they hold U+FFFD instead.
    nul = "\x00" if lake.dialect == "duckdb" else "\ufffd"
    assert rows[0]["name"] == f"a{nul}b" and rows[0]["names"] == [f"x{nul}"]
    assert json.loads(rows[0]["doc"]) == {f"k{nul}": [f"v{nul}", "\\u0000 stays"]}
    assert (rows[1]["name"], rows[1]["names"], json.loads(rows[1]["doc"])) == (
        "plain",
        ["y"],
        {"k": "v"},
    )
