"""fstab entries: which are mounted where, and the key each device form is matched by."""

from __future__ import annotations

import pytest

from opencwpp.vuln.targets.fstab import Mount, parse_fstab, spec_key

UUID = "3f1b2c4d-0000-4000-8000-00000000abcd"


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        (f"UUID={UUID.upper()}", f"uuid:{UUID}"),
        (f'UUID="{UUID}"', f"uuid:{UUID}"),
        ("LABEL=Var", "label:Var"),
        ("PARTUUID=5E0C1D2A-01", "partuuid:5e0c1d2a-01"),
        ("PARTLABEL=var", "partlabel:var"),
        (f"/dev/disk/by-uuid/{UUID}", f"uuid:{UUID}"),
        ("/dev/disk/by-label/Var", "label:Var"),
        ("/dev/disk/by-partlabel/var", "partlabel:var"),
        ("/dev/mapper/vg0-var", "lv:vg0/var"),
        ("/dev/mapper/vg--data-lv--var", "lv:vg-data/lv-var"),
        ("/dev/vg0/var", "lv:vg0/var"),
        ("/dev/sda2", "part:2"),
        ("/dev/xvda1", "part:1"),
        ("/dev/nvme0n1p3", "part:3"),
        ("/dev/mmcblk0p2", "part:2"),
        # Near misses: forms that name nothing we can see on the disk.
        ("/dev/sda", None),
        ("/dev/dm-3", None),
        ("/dev/disk/by-id/nvme-Amazon_EBS", None),
        ("/dev/mapper/vg0", None),
        ("UUID=", None),
        ("server:/export", None),
        ("LABEL", None),
    ],
)
def test_spec_keys(spec: str, key: str | None) -> None:
    assert spec_key(spec) == key


def test_entries_mounted_and_those_skipped() -> None:
    text = "\n".join(
        [
            "# /etc/fstab: static file system information",
            f"UUID={UUID} /               xfs  defaults 0 0",
            "LABEL=var  /var  ext4 defaults,nodev 0 2",
            "/dev/vg0/opt /opt auto defaults",
            "/dev/sdb1 /srv/My\\040Data ext4 defaults 0 2",  # octal escape for a space
            "PARTLABEL=log /var/log xfs defaults",
            "PARTLABEL=log2 /var/log xfs defaults",  # later entries win a mount point
            "UUID=1111 none swap sw 0 0",
            "tmpfs /tmp tmpfs nosuid 0 0",
            "proc /proc proc defaults 0 0",
            "UUID=2222 /boot/efi vfat umask=0077 0 1",
            "nfs.example:/home /home nfs4 defaults 0 0",
            "sshfs#x@y:/ /mnt/x fuse.sshfs defaults 0 0",
            "/dev/sdc1 /../../etc ext4 defaults",  # never leaves the root
            "/dev/sdc2 relative ext4 defaults",
            "/srv/data /data none bind 0 0",
            "UUID=3333 /home btrfs defaults 0 0",
            "garbage",
        ]
    )
    problems: list[str] = []
    mounts = parse_fstab(text, "disk:/etc/fstab", problems)
    assert mounts == [
        Mount(f"UUID={UUID}", f"uuid:{UUID}", "", "xfs"),  # the root: kept, never mounted
        Mount("LABEL=var", "label:var", "var", "ext4"),
        Mount("/dev/vg0/opt", "lv:vg0/opt", "opt", "auto"),
        Mount("/dev/sdb1", "part:1", "srv/My Data", "ext4", "sdb"),
        Mount("PARTLABEL=log2", "partlabel:log2", "var/log", "xfs"),
    ]
    assert problems == [
        "disk:/etc/fstab: /home is btrfs, a file system not read",
    ]
