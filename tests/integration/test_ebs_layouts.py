"""An EBS snapshot of a CIS-style disk, end to end over moto's EBS direct APIs: /boot on a
partition, root and /var as LVM2 logical volumes (mapped through fstab), /home on LUKS."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from opencwpp.collect.aws.session import AwsContext
from opencwpp.lake import Lake
from opencwpp.vuln.cloud.ebs_scan import scan_snapshots
from tests.data.vuln import builders as b
from tests.data.vuln.ebs import disks
from tests.data.vuln.ebs import layouts as lay
from tests.integration.test_vuln_ebs import upload

REGION = "ap-south-1"  # no other test of the shared moto server uses it
VAR = "6a5a3c55-5555-4000-8000-000000000005"


def _image(tmp: Path) -> bytes:
    root = tmp / "root"
    b.write(root, "etc/os-release", disks.ALMA_OS)
    b.write(
        root,
        "etc/fstab",
        "/dev/mapper/vg0-root / ext4 defaults 0 0\n"
        "UUID=6a5a3c55-3333-4000-8000-000000000003 /boot ext4 defaults 0 0\n"
        "/dev/vg0/var /var ext4 defaults,nodev 0 0\n"
        "/dev/mapper/luks-home /home ext4 defaults 0 0\n",
    )
    var = tmp / "var"
    b.rpmdb(
        var / "lib/rpm/rpmdb.sqlite",
        [("openssl", "3.0.1", "23.el9_0", 1), ("bash", "5.1.8", "6.el9_1", None)],
    )
    boot = b.write(tmp / "boot", "grub2/grub.cfg", "").parent.parent
    pv = lay.lvm_pv(
        "vg0",
        [
            ("root", lay.mkfs_ext4(root, "6a5a3c55-1111-4000-8000-000000000001", "root")),
            ("var", lay.mkfs_ext4(var, "6a5a3c55-2222-4000-8000-000000000002", "var")),
        ],
    )
    return lay.gpt(
        [
            lay.Part(
                lay.mkfs_ext4(boot, "6a5a3c55-3333-4000-8000-000000000003", "boot", 4),
                "boot",
                "5e0c1d2a-0000-4000-8000-0000000000e1",
            ),
            lay.Part(pv, "lvm", "5e0c1d2a-0000-4000-8000-0000000000e2"),
            lay.Part(lay.luks_header(), "home", "5e0c1d2a-0000-4000-8000-0000000000e3"),
        ]
    )


def test_lvm_and_luks_snapshot(
    lake: Lake, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ebs = boto3.Session(region_name=REGION).client("ebs", endpoint_url=moto_endpoint)
    sid = upload(ebs, _image(tmp_path_factory.mktemp("cis")))
    result = scan_snapshots(
        lake, AwsContext.create(endpoint_url=moto_endpoint), [REGION], snapshot_ids=[sid]
    )
    (snap,) = result.snapshots
    assert snap.error is None and snap.packages == 2
    assert snap.encrypted == [f"{sid} partition 3"]
    assert snap.problems == [
        f"{sid} partition 3: encrypted with LUKS: not readable without its key",
        f"{sid} partition 2 LV vg0/root:/etc/fstab: /dev/mapper/luks-home (mounted at /home) "
        "matches no file system read, not scanned",
    ]
    rows = lake.query(
        "SELECT name, path FROM cwpp_packages WHERE resource_uid = ? ORDER BY name",
        [snap.target.resource_arn],
    )
    assert [(r["name"], r["path"]) for r in rows] == [
        ("bash", "var/lib/rpm/rpmdb.sqlite"),
        ("openssl", "var/lib/rpm/rpmdb.sqlite"),
    ]
    run = lake.query("SELECT summary FROM cwpp_runs WHERE run_id = ?", [result.run_id])
    summary = run[0]["summary"]
    assert (json.loads(summary) if isinstance(summary, str) else summary)["encrypted_volumes"] == 1


def test_var_on_another_volume_of_the_instance(
    lake: Lake, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The root volume's fstab mounts /var from the instance's second EBS volume (by UUID):
    # the instance's snapshots are read together, so its packages are found.
    tmp = tmp_path_factory.mktemp("two")
    session = boto3.Session(region_name=REGION)
    ec2 = session.client("ec2", endpoint_url=moto_endpoint)
    ebs = session.client("ebs", endpoint_url=moto_endpoint)
    root = tmp / "root"
    b.write(root, "etc/os-release", disks.ALMA_OS)
    b.write(
        root, "etc/fstab", f"LABEL=root / ext4 defaults 0 0\nUUID={VAR} /var xfs defaults 0 0\n"
    )
    var = tmp / "var"
    b.rpmdb(var / "lib/rpm/rpmdb.sqlite", [("bash", "5.1.8", "6.el9_1", None)])
    images = {
        "root": disks.with_gpt(lay.mkfs_ext4(root, "6a5a3c55-4444-4000-8000-000000000004", "root")),
        "var": lay.mkfs_xfs(var, VAR, "var") if disks.have("mkfs.xfs") else b"",
    }
    if not images["var"]:
        pytest.skip("mkfs.xfs not installed")
    instance = ec2.run_instances(
        ImageId="ami-12345678", MinCount=1, MaxCount=1, Placement={"AvailabilityZone": f"{REGION}a"}
    )["Instances"][0]["InstanceId"]
    sids = {}
    for role, device in (("root", "/dev/sdf"), ("var", "/dev/sdg")):
        sids[role] = upload(ebs, images[role])
        volume = ec2.describe_snapshots(SnapshotIds=[sids[role]])["Snapshots"][0]["VolumeId"]
        ec2.attach_volume(VolumeId=volume, InstanceId=instance, Device=device)
    ctx = AwsContext.create(endpoint_url=moto_endpoint)
    result = scan_snapshots(lake, ctx, [REGION], snapshot_ids=list(sids.values()))
    by = {s.target.snapshot_id: s for s in result.snapshots}
    assert {s.target.instance_id for s in result.snapshots} == {instance}
    assert all(s.error is None and s.problems == [] for s in by.values())
    # The package database was on the var volume: counted there, found at /var.
    assert (by[sids["root"]].packages, by[sids["var"]].packages) == (0, 1)
    rows = lake.query(
        "SELECT name, path FROM cwpp_packages WHERE resource_uid = ?",
        [by[sids["root"]].target.resource_arn],
    )
    assert [(r["name"], r["path"]) for r in rows] == [("bash", "var/lib/rpm/rpmdb.sqlite")]
