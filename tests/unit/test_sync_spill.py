"""The sync's spill files and page collection, without AWS: what goes in comes back out, a unit
moves to disk only past the threshold, a failing page leaves no file, and secrets never land."""

from __future__ import annotations

import base64
import os
import platform
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from opencwpp.collect import sync
from opencwpp.collect.aws import ec2_instances
from opencwpp.collect.aws._secrets import EXPOSURES
from opencwpp.collect.base import Resource, Rows
from opencwpp.collect.sync import STATUS_FAILED, STATUS_OK, Spill, _collect, _fetch
from opencwpp.lake.lake import Lake, db_rows
from opencwpp.lake.schema import BOOL, FLOAT64, INT64, JSON, LIST_UTF8, TIMESTAMP, table

WIDE = table(
    "cwpp_test_wide",
    [
        "account_id",
        "region",
        "arn",
        ("doc", JSON),
        ("flag", BOOL),
        ("n", INT64),
        ("x", FLOAT64),
        ("at", TIMESTAMP),
        ("names", LIST_UTF8),
    ],
    cq_id_from=["arn"],
)
CHILD = table("cwpp_test_child", ["account_id", "region", "arn"], cq_id_from=["arn"])
STRAY = table("cwpp_test_stray", ["account_id", "region", "arn"], cq_id_from=["arn"])
SYNC_TIME = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def _row(i: int) -> dict[str, Any]:
    return {
        "account_id": "000000000000",
        "region": "eu-west-1",
        "arn": f"arn:aws:test:eu-west-1:000000000000:thing/{i}",
        "doc": {"Name": f"é\n\"'<{i}>", "List": [1, None, {"a": True}]},
        "flag": i % 2 == 0,
        "n": 2**62 + i,
        "x": i / 3,
        "at": datetime(2023, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        "names": ["a", "b,c", ""],
    }


def _resource(fetch: Any, *tables: Any) -> Resource:
    return Resource(
        name="test.wide",
        service="test",
        tables=tables or (WIDE, CHILD),
        permissions=(),
        fetch=fetch,
    )


def test_a_spill_gives_back_what_went_in(tmp_path: Path) -> None:
    values = db_rows(WIDE, [_row(i) for i in range(2500)], sync_time=SYNC_TIME)
    spill = Spill(tmp_path)
    assert stat.S_IMODE(spill.path.stat().st_mode) == 0o600
    spill.write(WIDE, values)
    got = [row for tbl, batch in spill.batches([WIDE]) for row in batch if tbl is WIDE]
    assert got == values
    assert isinstance(got[0][WIDE.column_names.index("at")], datetime)
    spill.remove()
    spill.remove()  # idempotent
    assert not spill.path.exists()


def test_a_timestamp_given_as_text_comes_back_as_a_time(tmp_path: Path) -> None:
    row = {**_row(1), "at": "2023-01-02T03:04:05+02:00"}
    spill = Spill(tmp_path)
    spill.write(WIDE, db_rows(WIDE, [row], sync_time=SYNC_TIME))
    [(_, [back])] = list(spill.batches([WIDE]))
    assert back[WIDE.column_names.index("at")] == datetime(2023, 1, 2, 1, 4, 5)
    spill.remove()


def _paged(count: int, per_page: int) -> Iterator[Rows]:
    for start in range(0, count, per_page):
        rows = [_row(i) for i in range(start, min(count, start + per_page))]
        yield {WIDE: rows, CHILD: [dict(r) for r in rows], STRAY: [_row(0)]}


def test_a_small_unit_stays_in_memory(tmp_path: Path) -> None:
    fetched = _collect(_resource(None), _paged(10, 4), str(tmp_path), SYNC_TIME)
    assert fetched.status == STATUS_OK and fetched.spill is None
    assert {t.name: len(v) for t, v in fetched.rows.items()} == {
        "cwpp_test_wide": 10,
        "cwpp_test_child": 10,
    }  # the undeclared table's rows are dropped, as before
    assert list(tmp_path.iterdir()) == []


def test_a_big_unit_moves_to_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "SPILL_ROWS", 7)
    fetched = _collect(_resource(None), _paged(30, 4), str(tmp_path), SYNC_TIME)
    assert fetched.rows == {} and fetched.spill is not None
    assert list(tmp_path.iterdir()) == [fetched.spill.path]
    counts: dict[str, int] = {}
    for tbl, batch in fetched.batches([WIDE, CHILD]):
        counts[tbl.name] = counts.get(tbl.name, 0) + len(batch)
    assert counts == {"cwpp_test_wide": 30, "cwpp_test_child": 30}
    fetched.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_failing_page_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "SPILL_ROWS", 3)

    def fetch(ctx: Any, region: str | None) -> Iterator[Rows]:
        pages = _paged(16, 4)
        yield next(pages)
        yield next(pages)
        error = {"Error": {"Code": "InternalError", "Message": "page 3"}}
        raise ClientError(error, "DescribeThings")

    fetched = _fetch(_resource(fetch), _Ctx(), "eu-west-1", str(tmp_path), SYNC_TIME)
    assert fetched.status == STATUS_FAILED and "page 3" in fetched.reason
    assert fetched.spill is None and fetched.rows == {}
    assert list(tmp_path.iterdir()) == []


def test_an_unexpected_error_mid_unit_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "SPILL_ROWS", 3)

    def fetch(ctx: Any, region: str | None) -> Iterator[Rows]:
        yield from _paged(8, 4)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _fetch(_resource(fetch), _Ctx(), "eu-west-1", str(tmp_path), SYNC_TIME)
    assert list(tmp_path.iterdir()) == []


class _Ctx:
    account_id = "000000000000"

    def client(self, service: str, region: str | None = None) -> Any:
        raise AssertionError("no client in a unit test")


def test_user_data_secrets_never_reach_a_spill_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "SPILL_ROWS", 0)
    secret = "AKIAIOSFODNN7EXAMPLE"
    script = (
        f"#!/bin/sh\nexport AWS_ACCESS_KEY_ID={secret}\n"
        "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    )
    user_data = base64.b64encode(script.encode()).decode()
    instance = {"InstanceId": "i-0123456789abcdef0", "State": {"Name": "running"}}

    def fetch(ctx: Any, region: str | None) -> Iterator[Rows]:
        yield ec2_instances.transform_instance(ctx.account_id, "eu-west-1", instance, user_data)

    resource = _resource(
        fetch,
        ec2_instances.INSTANCES,
        ec2_instances.INSTANCE_SECURITY_GROUPS,
        EXPOSURES,
    )
    fetched = _fetch(resource, _Ctx(), "eu-west-1", str(tmp_path), SYNC_TIME)
    assert fetched.spill is not None
    text = fetched.spill.path.read_text(encoding="utf-8")
    assert "i-0123456789abcdef0" in text and "aws_ec2_instances" in text
    assert secret not in text and "wJalrXUtnFEMI" not in text and user_data not in text
    exposures = [
        row
        for tbl, batch in fetched.batches(resource.tables)
        for row in batch
        if tbl.name == "cwpp_aws_secret_exposures"
    ]
    assert exposures  # the secret was found, and only its fingerprint was kept
    fetched.discard()


def test_spill_folders_left_by_killed_syncs_are_removed_once_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    now = time.time()
    stale = tmp_path / "cwpp-sync-killed"
    (stale / "inner").mkdir(parents=True)
    (stale / "inner" / "unit.jsonl").write_text("{}\n")
    fresh = tmp_path / "cwpp-sync-running"
    fresh.mkdir()
    other = tmp_path / "not-ours-old"
    other.mkdir()
    a_file = tmp_path / "cwpp-sync-a-file"
    a_file.write_text("x")
    for path in (stale, other, a_file):
        os.utime(path, (now - 2 * sync.STALE_SPILL_AGE_S, now - 2 * sync.STALE_SPILL_AGE_S))
    assert sync.remove_stale_spill_dirs(now) == [stale]
    assert not stale.exists() and fresh.exists() and other.exists() and a_file.exists()


class _Context:
    account_id = "000000000000"

    def client(self, service: str, region: str | None = None) -> Any:
        raise AssertionError("the test resources call no API")


def test_free_memory_is_handed_back_after_each_big_unit_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sync, "SPILL_ROWS", 7)
    releases: list[int] = []
    monkeypatch.setattr(sync, "release_free_memory", lambda: releases.append(1))
    big = replace(_resource(lambda ctx, region: _paged(30, 4)), name="test.big")
    small = replace(_resource(lambda ctx, region: _paged(3, 4)), name="test.small")
    with Lake.open("duckdb:///:memory:") as lake:
        target = sync.SyncTarget(_Context(), ["eu-west-1"])
        report = sync.sync_targets(lake, [target], [big, small], max_workers=2)
    written = {o.resource: (o.status, o.rows["cwpp_test_wide"]) for o in report.outcomes}
    assert written == {"test.big": (STATUS_OK, 30), "test.small": (STATUS_OK, 3)}
    assert releases == [1]  # after the big unit; the small one stayed in memory


def test_releasing_free_memory_is_harmless() -> None:
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert sync._malloc_trim() is not None
    sync.release_free_memory()
    sync.release_free_memory()
