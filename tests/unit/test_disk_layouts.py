"""Disks of several volumes: fstab mounts on GPT partitions, LVM2 logical volumes, LUKS.

The file systems are made by the real mkfs tools; the partition table, the LVM2 physical
volume and the LUKS header by tests/data/vuln/ebs/layouts.py. The package databases live on
the `/var` volume, as on CIS-hardened images: found only when fstab puts it at /var.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.walk import Inventory
from opencwpp.vuln.inventory import inventory, target_kind
from opencwpp.vuln.targets.disk import disk_inventory
from opencwpp.vuln.targets.volumes import volumes
from tests.data.vuln import builders as b
from tests.data.vuln.ebs import disks
from tests.data.vuln.ebs import layouts as lay

ROOT_UUID = "6a5a3c55-1111-4000-8000-000000000001"
VAR_UUID = "6a5a3c55-2222-4000-8000-000000000002"
VAR_PARTUUID = "5e0c1d2a-0000-4000-8000-0000000000b2"
ALMA = [("bash", "5.1.8-6.el9_1"), ("openssl", "1:3.0.1-23.el9_0")]


def _scan(image: bytes) -> Inventory:
    return disk_inventory(io.BytesIO(image), Inventory("disk", "disk"), "disk")


def _root_tree(tmp: Path, fstab: str) -> Path:
    """The root file system: os-release, fstab, and a stale dpkg status under its own /var
    directory, which the /var mount covers (it must not be read)."""
    root = tmp / "root"
    b.write(root, "etc/os-release", disks.ALMA_OS)
    b.write(root, "etc/fstab", fstab)
    b.write(root, "var/lib/dpkg/status", b.DPKG_STATUS)
    return root


def _var_tree(tmp: Path) -> Path:
    """The /var file system: the rpm database at lib/rpm (that is /var/lib/rpm)."""
    var = tmp / "var"
    b.rpmdb(
        var / "lib/rpm/rpmdb.sqlite",
        [("openssl", "3.0.1", "23.el9_0", 1), ("bash", "5.1.8", "6.el9_1", None)],
    )
    return var


def _fstab(var_spec: str) -> str:
    # Device names count only when the root is named on the same disk.
    root = "/dev/nvme0n1p1" if var_spec.startswith("/dev/nvme") else f"UUID={ROOT_UUID}"
    return (
        f"{root} / ext4 defaults 0 1\n"
        f"{var_spec} /var xfs defaults,nodev 0 2\n"
        "tmpfs /tmp tmpfs defaults 0 0\n"
        "/dev/xvdf1 /data ext4 defaults,nofail 0 2\n"
    )


def _gpt_disk(tmp: Path, var_spec: str) -> bytes:
    root = lay.mkfs_ext4(_root_tree(tmp, _fstab(var_spec)), ROOT_UUID, "root", 8)
    var = lay.mkfs_xfs(_var_tree(tmp), VAR_UUID, "varfs")
    return lay.gpt(
        [
            lay.Part(root, "root", "5e0c1d2a-0000-4000-8000-0000000000b1"),
            lay.Part(var, "var", VAR_PARTUUID),
        ]
    )


@pytest.mark.parametrize(
    "var_spec",
    [
        f"UUID={VAR_UUID}",
        "LABEL=varfs",
        f"PARTUUID={VAR_PARTUUID.upper()}",
        "PARTLABEL=var",
        "/dev/nvme0n1p2",
        f"/dev/disk/by-uuid/{VAR_UUID}",
    ],
)
def test_var_partition_is_read_at_its_mount_point(tmp_path: Path, var_spec: str) -> None:
    disks.tool("mkfs.xfs")
    inv = _scan(_gpt_disk(tmp_path, var_spec))
    assert inv.os is not None and inv.os.ecosystem == "AlmaLinux:9"
    assert sorted((p.name, p.version) for p in inv.packages) == ALMA
    assert {p.path for p in inv.packages} == {"var/lib/rpm/rpmdb.sqlite"}
    # The /data entry names another disk: reported, not fatal. tmpfs is not worth a line.
    assert inv.problems == [
        "disk partition 1:/etc/fstab: /dev/xvdf1 (mounted at /data) matches no file system "
        "read, not scanned"
    ]


def test_unmatched_var_entry_is_reported_and_nothing_guessed(tmp_path: Path) -> None:
    # Near miss: fstab names another UUID. The var partition is then read at / as before
    # (its lib/rpm is no package database there) and the root's own /var is not covered.
    disks.tool("mkfs.xfs")
    other = "6a5a3c55-9999-4000-8000-000000000009"
    inv = _scan(_gpt_disk(tmp_path, f"UUID={other}"))
    assert {p.path for p in inv.packages} == {"var/lib/dpkg/status"}
    assert inv.problems[0] == (
        f"disk partition 1:/etc/fstab: UUID={other} (mounted at /var) matches no file system "
        "read, not scanned"
    )


def _lvm_disk(tmp: Path, whole: bool, vg: str = "vg0", lv: str = "var") -> bytes:
    mapper = f"/dev/mapper/{vg.replace('-', '--')}-{lv.replace('-', '--')}"
    fstab = f"/dev/mapper/{vg}-root / ext4 defaults 0 1\n{mapper} /var ext4 defaults 0 2\n"
    root = lay.mkfs_ext4(_root_tree(tmp, fstab), ROOT_UUID, "root", 8)
    var = lay.mkfs_ext4(_var_tree(tmp), VAR_UUID, "var", 8)
    pv = lay.lvm_pv(vg, [("root", root), (lv, var)])
    if whole:
        return pv
    boot = lay.mkfs_ext4(
        b.write(tmp / "boot", "grub/grub.cfg", "").parent.parent,
        "6a5a3c55-3333-4000-8000-000000000003",
        "boot",
        4,
    )
    return lay.gpt(
        [
            lay.Part(boot, "boot", "5e0c1d2a-0000-4000-8000-0000000000c1"),
            lay.Part(pv, "lvm", "5e0c1d2a-0000-4000-8000-0000000000c2"),
        ]
    )


@pytest.mark.parametrize("whole", [False, True], ids=["gpt-partition", "whole-disk"])
def test_lvm_logical_volumes_are_read_like_partitions(tmp_path: Path, whole: bool) -> None:
    image = _lvm_disk(tmp_path, whole)
    problems: list[str] = []
    found = volumes(io.BytesIO(image), "disk", problems)
    where = "disk" if whole else "disk partition 2"
    assert [(f.where, f.kind) for f in found.filesystems][-2:] == [
        (f"{where} LV vg0/root", "ext4"),
        (f"{where} LV vg0/var", "ext4"),
    ]
    assert "lv:vg0/var" in found.filesystems[-1].keys and problems == []
    inv = _scan(image)
    assert sorted((p.name, p.version) for p in inv.packages) == ALMA
    assert inv.problems == [] and inv.encrypted == []


def test_lvm_names_with_dashes_through_dev_mapper(tmp_path: Path) -> None:
    inv = _scan(_lvm_disk(tmp_path, True, vg="vg-sys", lv="lv-var"))
    assert sorted((p.name, p.version) for p in inv.packages) == ALMA


@pytest.mark.parametrize(
    ("claimed", "problem"),
    [
        (64 * 1024 * 1024, "LVM2 metadata larger than its area"),
        (0, "LVM2 metadata larger than its area"),  # dissect would read(-1): the whole disk
        (None, "unreadable LVM2 metadata"),  # the right size, but the text is broken
    ],
)
def test_hostile_lvm_metadata_is_refused(tmp_path: Path, claimed: int | None, problem: str) -> None:
    root = lay.mkfs_ext4(_root_tree(tmp_path, ""), ROOT_UUID, "root", 8)
    pv = lay.lvm_pv("vg0", [("root", root)], metadata_size=claimed)
    if claimed is None:
        pv = pv.replace(b"seqno = 1\n", b"seqno = [(\n", 1)
    problems: list[str] = []
    with pytest.raises(BadInputError, match=problem):
        volumes(io.BytesIO(pv), "disk", problems)
    assert len(problems) == 1 and problems[0].startswith(f"disk: {problem}")


def test_luks_volume_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    fstab = f"UUID={ROOT_UUID} / ext4 defaults 0 1\n/dev/mapper/luks-home /home ext4 defaults 0 2\n"
    root = lay.mkfs_ext4(_root_tree(tmp_path, fstab), ROOT_UUID, "root", 8)
    image = lay.gpt(
        [
            lay.Part(root, "root", "5e0c1d2a-0000-4000-8000-0000000000d1"),
            lay.Part(lay.luks_header(), "home", "5e0c1d2a-0000-4000-8000-0000000000d2"),
        ]
    )
    inv = _scan(image)
    assert inv.encrypted == ["disk partition 2"]
    assert inv.problems == [
        "disk partition 2: encrypted with LUKS: not readable without its key",
        "disk partition 1:/etc/fstab: /dev/mapper/luks-home (mounted at /home) matches no "
        "file system read, not scanned",
    ]
    assert {p.path for p in inv.packages} == {"var/lib/dpkg/status"}  # no /var mount here


def test_only_luks_is_a_clear_error() -> None:
    with pytest.raises(
        BadInputError,
        match=r"^disk: no readable ext4 or XFS file system "
        r"\(disk: encrypted with LUKS: not readable without its key\)",
    ):
        _scan(lay.luks_header())


def test_lvm_label_whose_lists_never_end_is_not_followed(tmp_path: Path) -> None:
    # dissect would read descriptors on through the disk until an all-zero one.
    root = lay.mkfs_ext4(_root_tree(tmp_path, ""), ROOT_UUID, "root", 8)
    pv = bytearray(lay.lvm_pv("vg0", [("root", root)]))
    pv[lay.SECTOR + 72 : 2 * lay.SECTOR] = b"\x01" * (lay.SECTOR - 72)
    problems: list[str] = []
    with pytest.raises(BadInputError, match="no partition table or file system recognised"):
        volumes(io.BytesIO(bytes(pv)), "disk", problems)


def test_raw_lvm_image_is_a_scan_target(tmp_path: Path) -> None:
    # `cwpp vuln scan pv.img`: a `dd` of a whole-disk physical volume has no partition table.
    path = tmp_path / "pv.img"
    path.write_bytes(_lvm_disk(tmp_path, True))
    assert target_kind(path) == "disk"
    assert sorted((p.name, p.version) for p in inventory(path).packages) == ALMA
    luks = tmp_path / "luks.img"
    luks.write_bytes(lay.luks_header())
    assert target_kind(luks) == "disk"
    with pytest.raises(BadInputError, match="encrypted with LUKS"):
        inventory(luks)
