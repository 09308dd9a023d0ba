"""The sync streams big units page by page, over HTTP against moto, on DuckDB and PostgreSQL.

A resource that yields pages lands every page; a unit past `SPILL_ROWS` goes through a spill file
in a private temporary folder; a page that fails (or a writer that fails) keeps the previous
snapshot whole; and no temporary file outlives the sync, however it ends.
"""

from __future__ import annotations

import json
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from opencwpp.collect import sync
from opencwpp.collect.aws import ec2_instances
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import STATUS_FAILED, STATUS_NOT_ASSESSED, SyncFailed, sync_aws
from opencwpp.core.errors import LakeError
from opencwpp.lake.lake import Lake
from tests.integration.test_collect_accounts import Answer, proxy
from tests.integration.test_collect_detection_services import account_session

ACCOUNT = "444455556666"
REGION = "eu-central-1"
RESERVATIONS = 20  # moto pages DescribeInstances by reservation: 4 pages of 5
PER_PAGE = 5


def _instances() -> list[Any]:
    return [r for r in load_resources() if r.name == "ec2.instances"]


@pytest.fixture(scope="module")
def estate(moto_endpoint: str) -> boto3.Session:
    """An account with 20 reservations of 2 instances each in one region."""
    session = account_session(moto_endpoint, ACCOUNT)
    ec2 = session.client("ec2", endpoint_url=moto_endpoint, region_name=REGION)
    for _ in range(RESERVATIONS):
        ec2.run_instances(ImageId="ami-12345678", MinCount=2, MaxCount=2)
    return session


@pytest.fixture
def spill_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private temp root for the sync, small pages, and a spill threshold of 3 rows."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.setattr(ec2_instances, "PAGE_SIZE", PER_PAGE)
    monkeypatch.setattr(sync, "SPILL_ROWS", 3)
    yield root


@pytest.fixture
def spills(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, int]]:
    """Every spill file the sync opens, with the mode of its folder."""
    opened: list[tuple[Path, int]] = []

    class Recording(sync.Spill):
        def __init__(self, directory: str | Path) -> None:
            super().__init__(directory)
            opened.append((self.path, stat.S_IMODE(Path(directory).stat().st_mode)))

    monkeypatch.setattr(sync, "Spill", Recording)
    return opened


def _context(session: boto3.Session, endpoint: str) -> AwsContext:
    return AwsContext(session, endpoint_url=endpoint, account_id=ACCOUNT)


def _instance_ids(lake: Lake) -> list[str]:
    rows = lake.query(
        "SELECT instance_id FROM aws_ec2_instances WHERE account_id = ? AND region = ? "
        "ORDER BY instance_id",
        [ACCOUNT, REGION],
    )
    return [r["instance_id"] for r in rows]


def _states(lake: Lake) -> dict[str, str]:
    rows = lake.query(
        "SELECT instance_id, state FROM aws_ec2_instances WHERE account_id = ? AND region = ?",
        [ACCOUNT, REGION],
    )
    out: dict[str, str] = {}
    for row in rows:
        state = json.loads(row["state"]) if isinstance(row["state"], str) else row["state"]
        out[row["instance_id"]] = state["Name"]
    return out


def _fail_page(number: int, code: str, status: int) -> Any:
    """A proxy rule answering the `number`th DescribeInstances call with an EC2 error."""
    seen = {"calls": 0}

    def rule(operation: str, form: dict[str, list[str]]) -> Answer | None:
        if operation != "DescribeInstances":
            return None
        seen["calls"] += 1
        if seen["calls"] != number:
            return None
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>page {number} broke"
            "</Message></Error></Errors><RequestID>1</RequestID></Response>"
        )
        return status, "text/xml", body.encode()

    return rule


def test_a_paged_unit_lands_every_page_through_a_spill_file(
    lake: Lake,
    moto_endpoint: str,
    estate: boto3.Session,
    spill_root: Path,
    spills: list[tuple[Path, int]],
) -> None:
    report = sync_aws(lake, _context(estate, moto_endpoint), [REGION], resources=_instances())
    ids = _instance_ids(lake)
    assert len(ids) == RESERVATIONS * 2 == len(set(ids))
    # The security group rows (a second table) came through the same file.
    groups = lake.query(
        "SELECT count(DISTINCT instance_id) AS n FROM cwpp_aws_ec2_instance_security_groups "
        "WHERE account_id = ? AND region = ?",
        [ACCOUNT, REGION],
    )
    assert groups == [{"n": RESERVATIONS * 2}]
    assert report.outcomes[0].rows["aws_ec2_instances"] == RESERVATIONS * 2
    # The unit passed the threshold: one spill file, in a folder only we may enter.
    assert len(spills) == 1
    assert spills[0][1] == 0o700
    assert list(spill_root.iterdir()) == []


def test_an_in_memory_unit_lands_every_page(
    lake: Lake, moto_endpoint: str, estate: boto3.Session, spill_root: Path, spills: list[Any]
) -> None:
    sync.SPILL_ROWS = 10_000  # monkeypatched by spill_root, restored after the test
    sync_aws(lake, _context(estate, moto_endpoint), [REGION], resources=_instances())
    assert len(_instance_ids(lake)) == RESERVATIONS * 2
    assert spills == []


@pytest.mark.parametrize(
    ("code", "status", "outcome"),
    [("InvalidParameterValue", 400, STATUS_FAILED), ("UnauthorizedOperation", 403, None)],
)
def test_a_failure_on_page_3_of_4_keeps_the_previous_snapshot(
    lake: Lake,
    moto_endpoint: str,
    estate: boto3.Session,
    spill_root: Path,
    spills: list[tuple[Path, int]],
    code: str,
    status: int,
    outcome: str | None,
) -> None:
    sync_aws(lake, _context(estate, moto_endpoint), [REGION], resources=_instances())
    before = _states(lake)
    assert set(before.values()) == {"running"}
    stopped = sorted(before)[:1]
    ec2 = estate.client("ec2", endpoint_url=moto_endpoint, region_name=REGION)
    ec2.stop_instances(InstanceIds=stopped)  # the cloud moved on
    try:
        with proxy(moto_endpoint, _fail_page(3, code, status)) as endpoint:
            ctx = _context(estate, endpoint)
            if outcome == STATUS_FAILED:
                with pytest.raises(SyncFailed, match="page 3 broke") as failed:
                    sync_aws(lake, ctx, [REGION], resources=_instances())
                report = failed.value.report
            else:
                report = sync_aws(lake, ctx, [REGION], resources=_instances())
    finally:
        ec2.start_instances(InstanceIds=stopped)
    expected = outcome or STATUS_NOT_ASSESSED
    assert [o.status for o in report.outcomes] == [expected]
    assert _states(lake) == before  # the stopped one still shows the last good sync's state
    status_rows = lake.query(
        "SELECT status, reason FROM cwpp_sync_scopes WHERE table_name = ? AND account_id = ? "
        "AND region = ?",
        ["aws_ec2_instances", ACCOUNT, REGION],
    )
    assert status_rows[0]["status"] == expected and code in status_rows[0]["reason"]
    # Pages 1 and 2 had gone to a file (threshold 3 rows); it is gone with the unit.
    assert len(spills) == 2
    assert not spills[1][0].exists()
    assert list(spill_root.iterdir()) == []


def test_a_writer_failure_rolls_back_and_removes_the_files(
    lake: Lake,
    moto_endpoint: str,
    estate: boto3.Session,
    spill_root: Path,
    spills: list[tuple[Path, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = _context(estate, moto_endpoint)
    sync_aws(lake, ctx, [REGION], resources=_instances())
    before = _states(lake)
    stopped = sorted(before)[:1]
    ec2 = estate.client("ec2", endpoint_url=moto_endpoint, region_name=REGION)
    ec2.stop_instances(InstanceIds=stopped)
    original = Lake.insert_values
    calls = {"n": 0}

    def failing(self: Lake, tbl: Any, values: list[list[Any]]) -> int:
        calls["n"] += 1
        if calls["n"] == 2:  # after the first batch went in
            raise LakeError("disk on fire")
        return original(self, tbl, values)

    monkeypatch.setattr(Lake, "insert_values", failing)
    try:
        with pytest.raises(LakeError, match="disk on fire"):
            sync_aws(lake, ctx, [REGION], resources=_instances())
    finally:
        ec2.start_instances(InstanceIds=stopped)
    monkeypatch.setattr(Lake, "insert_values", original)
    assert calls["n"] == 2
    assert _states(lake) == before
    assert len(spills) == 2 and not spills[1][0].exists()
    assert list(spill_root.iterdir()) == []
