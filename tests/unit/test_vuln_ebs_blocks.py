"""The lazy EBS snapshot reader: paging, zeros for unwritten blocks, checksums, a bounded cache."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import pytest
from botocore.exceptions import ClientError

from opencwpp.vuln.cloud.ebs_blocks import BlockError, SnapshotReader, checksum_ok, list_blocks
from opencwpp.vuln.cloud.ebs_select import SnapshotTarget, Volume, attached, latest

BS = 1024  # small blocks keep the tests quick; the reader takes the size from the API


def _sum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class FakeEbs:
    """ListSnapshotBlocks in pages of `page` blocks, GetSnapshotBlock counted."""

    def __init__(self, blocks: dict[int, bytes], page: int = 2, bad: int | None = None) -> None:
        self.blocks, self.page, self.bad = blocks, page, bad
        self.gets: list[int] = []
        self.lists = 0

    def list_snapshot_blocks(self, **kw: Any) -> dict[str, Any]:
        self.lists += 1
        start = int(kw.get("NextToken") or 0)
        idx = sorted(self.blocks)[start : start + self.page]
        out: dict[str, Any] = {
            "Blocks": [{"BlockIndex": i, "BlockToken": f"t{i}"} for i in idx],
            "VolumeSize": 1,
            "BlockSize": BS,
        }
        if start + self.page < len(self.blocks):
            out["NextToken"] = str(start + self.page)
        return out

    def get_snapshot_block(self, **kw: Any) -> dict[str, Any]:
        index = kw["BlockIndex"]
        assert kw["BlockToken"] == f"t{index}"
        self.gets.append(index)
        data = self.blocks[index]
        checksum = _sum(data + b"x") if index == self.bad else _sum(data)
        return {"BlockData": io.BytesIO(data), "Checksum": checksum, "ChecksumAlgorithm": "SHA256"}


def _blocks() -> dict[int, bytes]:
    return {i: bytes([(i + 1) % 256]) * BS for i in (0, 3, 4, 9, 700)}


def test_pages_are_followed_and_unwritten_blocks_read_as_zeros() -> None:
    ebs = FakeEbs(_blocks())
    tokens, size, block = list_blocks(ebs, "snap-1")
    assert sorted(tokens) == [0, 3, 4, 9, 700] and ebs.lists == 3
    assert size == 1024**3 and block == BS
    reader = SnapshotReader(ebs, "snap-1")
    reader.seek(2 * BS + BS - 2)
    assert reader.read(4) == b"\0\0\x04\x04"  # the end of unwritten block 2, block 3
    assert ebs.gets == [3]  # block 2 was never fetched: it is not listed
    reader.seek(-1, io.SEEK_END)
    assert reader.read(10) == b"\0" and reader.read(1) == b""


def test_blocks_are_fetched_once_while_cached_and_cache_is_bounded() -> None:
    ebs = FakeEbs(_blocks())
    reader = SnapshotReader(ebs, "snap-1", cache_blocks=2)
    for _ in range(3):
        reader.seek(0)
        assert reader.read(2) == b"\x01\x01"
    assert ebs.gets == [0] and reader.fetched == 1
    for index in (3, 4, 9, 0):  # 0 was evicted by the time it is read again
        reader.seek(index * BS)
        reader.read(1)
    assert ebs.gets == [0, 3, 4, 9, 0]
    assert len(reader._cache) == 2


def test_a_read_across_blocks_joins_them() -> None:
    reader = SnapshotReader(FakeEbs(_blocks()), "snap-1")
    reader.seek(4 * BS - 1)
    assert reader.read(BS + 2) == b"\x04" + b"\x05" * BS + b"\0"


def test_checksum_mismatch_is_an_error_and_is_remembered() -> None:
    reader = SnapshotReader(FakeEbs(_blocks(), bad=9), "snap-1")
    reader.seek(9 * BS)
    with pytest.raises(BlockError, match=r"^snap-1: block 9 checksum mismatch$"):
        reader.read(1)
    assert reader.failure is not None and "block 9" in str(reader.failure)
    reader.seek(0)
    assert reader.read(1) == b"\x01"  # good blocks still read; the caller decides


def test_wrong_block_length_is_an_error() -> None:
    ebs = FakeEbs({0: b"\1" * (BS - 1)})
    reader = SnapshotReader(ebs, "snap-1")
    with pytest.raises(BlockError, match="is 1023 bytes, expected 1024"):
        reader.read(1)


def test_checksum_rules() -> None:
    data = b"abc"
    assert checksum_ok(data, _sum(data), "SHA256")
    assert not checksum_ok(data, _sum(b"abd"), "SHA256")
    assert not checksum_ok(data, None, "SHA256")  # a block without a checksum is not trusted
    assert not checksum_ok(data, _sum(data), "MD5")


def test_api_refusal_is_one_line() -> None:
    class Denied(FakeEbs):
        def get_snapshot_block(self, **kw: Any) -> dict[str, Any]:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no ebs:GetSnapshotBlock"}},
                "GetSnapshotBlock",
            )

    reader = SnapshotReader(Denied(_blocks()), "snap-1")
    with pytest.raises(BlockError, match="GetSnapshotBlock refused: AccessDeniedException"):
        reader.read(1)


def test_attached_volumes_and_latest_completed_snapshot() -> None:
    assert attached("vol-1", "available", []) is None
    assert attached("vol-1", "in-use", '[{"InstanceId": "i-1", "State": "detaching"}]') is None
    vol = attached("vol-1", "in-use", [{"InstanceId": "i-1", "Device": "/dev/sdf"}])
    assert vol == Volume("vol-1", "i-1", "/dev/sdf")
    from datetime import datetime

    snaps = [
        {
            "SnapshotId": "snap-old",
            "VolumeId": "vol-1",
            "State": "completed",
            "StartTime": datetime(2024, 1, 1),
        },
        {
            "SnapshotId": "snap-new",
            "VolumeId": "vol-1",
            "State": "completed",
            "StartTime": datetime(2024, 3, 1),
        },
        {
            "SnapshotId": "snap-pending",
            "VolumeId": "vol-1",
            "State": "pending",
            "StartTime": datetime(2024, 4, 1),
        },
        {
            "SnapshotId": "snap-other",
            "VolumeId": "vol-2",
            "State": "completed",
            "StartTime": datetime(2024, 4, 1),
        },
    ]
    picked = latest([vol], snaps, "eu-north-1", "123456789012")
    assert [t.snapshot_id for t in picked] == ["snap-new"]
    assert picked[0].resource_arn == "arn:aws:ec2:eu-north-1:123456789012:instance/i-1"
    lone = SnapshotTarget("snap-9", "cn-north-1", "123456789012")
    assert lone.resource_arn == "arn:aws-cn:ec2:cn-north-1:123456789012:snapshot/snap-9"
