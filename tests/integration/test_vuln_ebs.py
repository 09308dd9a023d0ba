"""Agentless EBS snapshot scans end to end: real ext4/XFS images uploaded block by block to a
moto server over HTTP (EBS direct APIs), scanned back, findings keyed to the instances."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer
from typer.testing import CliRunner

from opencwpp.cli import vuln_commands
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import sync_aws
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.lake import Lake
from opencwpp.vuln.cloud.ebs_scan import scan_snapshots
from opencwpp.vuln.osv.importer import detect_and_import
from tests.conftest import require_shared
from tests.data.vuln import builders as b
from tests.data.vuln.ebs import disks

REGION = "eu-north-1"  # no other test of the shared moto server uses it
CREATE_REGION = "eu-south-1"
ACCOUNT = "123456789012"
BLOCK = 512 * 1024


def _checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def upload(ebs: Any, image: bytes, *, corrupt_block: int | None = None) -> str:
    """A completed snapshot holding `image` (all-zero blocks left out, as EBS does)."""
    snap = ebs.start_snapshot(VolumeSize=1, Description="cwpp test")
    sid = snap["SnapshotId"]
    written = 0
    for index in range((len(image) + BLOCK - 1) // BLOCK):
        data = image[index * BLOCK : (index + 1) * BLOCK].ljust(BLOCK, b"\0")
        if not data.strip(b"\0"):
            continue
        checksum = _checksum(data)
        if index == corrupt_block:
            checksum = _checksum(data + b"!")  # what the service would flag as damaged
        ebs.put_snapshot_block(
            SnapshotId=sid,
            BlockIndex=index,
            BlockData=data,
            DataLength=BLOCK,
            Checksum=checksum,
            ChecksumAlgorithm="SHA256",
        )
        written += 1
    ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=written)
    return str(sid)


@dataclass
class Estate:
    """What the fixture built: instance and snapshot ids by role."""

    instances: dict[str, str]
    snapshots: dict[str, str]
    blocks: dict[str, int]

    def arn(self, role: str) -> str:
        return f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{self.instances[role]}"


def _attach(ec2: Any, sid: str, instance: str) -> None:
    volume = ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]["VolumeId"]
    ec2.attach_volume(VolumeId=volume, InstanceId=instance, Device="/dev/sdf")


@pytest.fixture(scope="module")
def estate(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Estate:
    """Instances whose data volumes were snapshotted: Debian (GPT/ext4), AlmaLinux (MBR/XFS),
    one with a damaged block; and an unattached snapshot of random bytes."""
    tmp = tmp_path_factory.mktemp("ebs")
    session = boto3.Session(region_name=REGION)
    ec2 = session.client("ec2", endpoint_url=moto_endpoint)
    ebs = session.client("ebs", endpoint_url=moto_endpoint)
    debian = disks.with_gpt(disks.mkfs_ext4(disks.debian_tree(tmp / "debian")))
    images = {"debian": debian, "corrupt": debian}
    if disks.have("mkfs.xfs"):
        images["alma"] = disks.with_mbr(disks.mkfs_xfs(disks.alma_tree(tmp / "alma")))
    instances, snapshots, blocks = {}, {}, {}
    for role, image in images.items():
        instance = ec2.run_instances(
            ImageId="ami-12345678",
            MinCount=1,
            MaxCount=1,
            Placement={"AvailabilityZone": f"{REGION}a"},
        )["Instances"][0]["InstanceId"]
        # the corrupt copy: the block with the partition table and the superblock is damaged
        sid = upload(ebs, image, corrupt_block=2 if role == "corrupt" else None)
        _attach(ec2, sid, instance)
        instances[role], snapshots[role] = instance, sid
        blocks[role] = sum(
            1 for i in range(0, len(image), BLOCK) if image[i : i + BLOCK].strip(b"\0")
        )
    snapshots["random"] = upload(ebs, os.urandom(3 * BLOCK))
    return Estate(instances, snapshots, blocks)


def _advisories(lake: Lake, tmp: Path) -> None:
    osv = tmp / "osv"
    records = [
        {
            "id": "DSA-9999-1",
            "modified": "2024-01-01T00:00:00Z",
            "related": ["CVE-2099-5"],
            "affected": [
                {
                    "package": {"ecosystem": "Debian:12", "name": "openssl"},
                    "ranges": [
                        {
                            "type": "ECOSYSTEM",
                            "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}],
                        }
                    ],
                }
            ],
        },
        {  # near miss: fixed at the installed version
            "id": "DSA-9999-3",
            "modified": "2024-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": "Debian:12", "name": "zlib"},
                    "ranges": [
                        {
                            "type": "ECOSYSTEM",
                            "events": [{"introduced": "0"}, {"fixed": "1:1.2.13.dfsg-1"}],
                        }
                    ],
                }
            ],
        },
    ]
    for rec in records:
        b.write(osv, f"{rec['id']}.json", json.dumps(rec))
    detect_and_import(lake, osv)
    # real AlmaLinux 9 advisories (openssl 1:3.0.1-23.el9_0 is affected by several)
    detect_and_import(lake, require_shared("osv/almalinux9"))


def test_snapshots_of_instances_are_scanned(
    lake: Lake, estate: Estate, moto_endpoint: str, tmp_path: Path
) -> None:
    _advisories(lake, tmp_path)
    ctx = AwsContext.create(endpoint_url=moto_endpoint)
    result = scan_snapshots(lake, ctx, [REGION])
    by_snap = {s.target.snapshot_id: s for s in result.snapshots}
    # only snapshots of attached volumes; the unattached random one is not picked
    assert estate.snapshots["random"] not in by_snap
    deb = by_snap[estate.snapshots["debian"]]
    assert deb.error is None and deb.packages == 4 and deb.problems == []
    assert deb.target.resource_arn == estate.arn("debian")
    # lazily read: only blocks the partition table and the file system point at
    assert 0 < deb.blocks_read <= estate.blocks["debian"]
    bad = by_snap[estate.snapshots["corrupt"]]
    assert bad.error == f"{estate.snapshots['corrupt']}: block 2 checksum mismatch"
    by = {(f.resource.uid, f.check_id): f for f in result.findings}
    debian_keys = {k for k in by if k[0].startswith(estate.arn("debian"))}
    # by source package: libssl3 and openssl (both from openssl) are affected; zlib is fixed
    assert debian_keys == {
        (f"{estate.arn('debian')}#Debian:12/libssl3", "DSA-9999-1"),
        (f"{estate.arn('debian')}#Debian:12/openssl", "DSA-9999-1"),
    }
    f = by[(f"{estate.arn('debian')}#Debian:12/openssl", "DSA-9999-1")]
    assert f.resource.type == "AwsEc2Instance" and f.resource.region == REGION
    assert f.resource.account_id == ACCOUNT
    assert f.evidence["resource"]["snapshots"][0]["snapshot_id"] == estate.snapshots["debian"]
    assert f.evidence["fixed_versions"] == ["3.0.11-1~deb12u2"]
    if "alma" in estate.instances:
        alma = by_snap[estate.snapshots["alma"]]
        assert alma.error is None and alma.packages == 2
        alma_hits = {k[1] for k in by if k[0] == f"{estate.arn('alma')}#AlmaLinux:9/openssl"}
        assert "ALSA-2022:6224" in alma_hits
        assert not any(k[0] == f"{estate.arn('alma')}#AlmaLinux:9/bash" for k in by)
    rows = lake.query(
        "SELECT name FROM cwpp_packages WHERE resource_uid = ? ORDER BY name",
        [estate.arn("debian")],
    )
    assert [r["name"] for r in rows] == ["Django", "libssl3", "openssl", "zlib1g"]
    # the damaged snapshot's instance got nothing stored, and the run says why
    assert not any(k[0].startswith(estate.arn("corrupt")) for k in by)
    stored = load_findings(lake, FindingFilter(pillars=("vulnerability",)))
    assert {s.lifecycle for s in stored} == {"NEW"}


def test_picked_snapshots_and_bad_input(
    lake: Lake, estate: Estate, moto_endpoint: str, tmp_path: Path
) -> None:
    _advisories(lake, tmp_path)
    ctx = AwsContext.create(endpoint_url=moto_endpoint)
    ids = [estate.snapshots["random"], estate.snapshots["debian"], "snap-0000000000000dead"]
    result = scan_snapshots(lake, ctx, [REGION], snapshot_ids=ids)
    by_snap = {s.target.snapshot_id: s for s in result.snapshots}
    assert set(by_snap) == set(ids[:2]) and result.missing == ["snap-0000000000000dead"]
    rnd = by_snap[estate.snapshots["random"]]
    # no instance known: keyed to the snapshot ARN; random bytes are no file system
    assert rnd.target.resource_arn.endswith(f":snapshot/{estate.snapshots['random']}")
    assert rnd.error is not None and "no readable ext4 or XFS file system" in rnd.error
    assert by_snap[estate.snapshots["debian"]].error is None
    assert len(result.findings) == 2


def test_selection_from_the_synced_lake(lake: Lake, estate: Estate, moto_endpoint: str) -> None:
    ctx = AwsContext.create(endpoint_url=moto_endpoint, region=REGION)
    mine = [r for r in load_resources() if r.name in ("ec2.ebs_volumes", "ec2.ebs_snapshots")]
    sync_aws(lake, ctx, [REGION], resources=mine)
    # the lake says which snapshots exist: a DescribeSnapshots call would now be a mistake
    client = ctx.client("ec2", REGION)

    def refuse(**_: object) -> None:
        raise AssertionError("DescribeSnapshots called although the lake has the snapshots")

    client.meta.events.register("before-call.ec2.DescribeSnapshots", refuse)
    result = scan_snapshots(lake, ctx, [REGION])
    assert {s.target.snapshot_id for s in result.snapshots} == {
        estate.snapshots[r] for r in estate.instances
    }


def _cli() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _cb() -> None:
        """Test root."""

    root.add_typer(vuln_commands.app, name="vuln")
    return root


def test_cli_snapshots(estate: Estate, moto_endpoint: str, tmp_path: Path) -> None:
    lake_url = f"duckdb://{tmp_path / 'lake.duckdb'}"
    with Lake.open(lake_url) as lake:
        _advisories(lake, tmp_path)
    runner = CliRunner()
    ids = f"{estate.snapshots['debian']},{estate.snapshots['random']}"
    args = ["vuln", "scan", "aws", "--regions", REGION, "--endpoint-url", moto_endpoint]
    out = runner.invoke(_cli(), [*args, "--snapshot-ids", ids, "-f", "json", "--lake", lake_url])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert sorted((d["resource"]["arn"], d["package"]["name"]) for d in doc) == [
        (estate.arn("debian"), "libssl3"),
        (estate.arn("debian"), "openssl"),
    ]
    assert "1 snapshots scanned, 1 not readable" in out.stderr
    assert "no readable ext4 or XFS file system" in out.stderr
    out = runner.invoke(_cli(), [*args, "--delete-created", "--lake", lake_url])
    assert out.exit_code != 0 and "--create-snapshots" in str(out.exception)


def test_create_snapshots_is_opt_in_and_cleans_up(moto_endpoint: str, lake: Lake) -> None:
    session = boto3.Session(region_name=CREATE_REGION)
    ec2 = session.client("ec2", endpoint_url=moto_endpoint)
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]
    volume = ec2.create_volume(Size=1, AvailabilityZone=f"{CREATE_REGION}a")["VolumeId"]
    ec2.attach_volume(VolumeId=volume, InstanceId=instance["InstanceId"], Device="/dev/sdf")
    ctx = AwsContext.create(endpoint_url=moto_endpoint)
    # read-only by default: no snapshot of the volume exists, none is made
    assert scan_snapshots(lake, ctx, [CREATE_REGION]).snapshots == []
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    attached = [v for v in ec2.describe_volumes()["Volumes"] if v["State"] == "in-use"]
    assert len(attached) >= 2  # the instance's root volume and the data volume
    kept = scan_snapshots(lake, ctx, [CREATE_REGION], create=True)
    made = [s.target.snapshot_id for s in kept.created]
    assert len(made) == len(attached) and not any(s.deleted for s in kept.created)
    assert {s.target.instance_id for s in kept.created} >= {instance["InstanceId"]}
    tags = ec2.describe_snapshots(SnapshotIds=made)["Snapshots"][0]["Tags"]
    assert {t["Key"] for t in tags} == {"opencwpp:vuln-scan"}
    for sid in made:
        ec2.delete_snapshot(SnapshotId=sid)
    gone = scan_snapshots(lake, ctx, [CREATE_REGION], create=True, delete_created=True)
    assert len(gone.created) == len(attached) and all(s.deleted for s in gone.created)
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
