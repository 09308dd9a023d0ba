"""A root file system's `/etc/fstab`, read to put separate partitions at their mount points.

CIS-hardened images put `/var`, `/usr`, `/opt`… on their own partitions or logical volumes:
the package databases then live there. Each entry's device (`UUID=`, `LABEL=`, `PARTUUID=`,
`PARTLABEL=`, `/dev/disk/by-*/…`, `/dev/mapper/vg-lv`, `/dev/vg/lv`, `/dev/sda2`,
`/dev/nvme0n1p2`…) becomes a key that the volumes found on the disk also carry
(`targets.volumes`). The text is the disk's, so attacker-controlled: mount points are
normalised and never leave the root.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

MAX_FSTAB = 1024 * 1024
# The file systems read (`auto`: the kernel probes, as do we).
READ_TYPES = frozenset({"ext2", "ext3", "ext4", "xfs", "auto"})
# Entries that never hold installed packages: pseudo, network, boot and swap file systems.
QUIET_TYPES = frozenset(
    {
        "swap", "tmpfs", "proc", "sysfs", "devpts", "devtmpfs", "ramfs", "hugetlbfs", "mqueue",
        "securityfs", "debugfs", "tracefs", "configfs", "pstore", "efivarfs", "bpf", "cgroup",
        "cgroup2", "binfmt_misc", "autofs", "fusectl", "vfat", "msdos", "iso9660", "udf",
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "efs", "lustre", "none", "overlay", "squashfs",
    }
)  # fmt: skip
QUIET_MOUNTS = frozenset({"proc", "sys", "dev", "run", "tmp"})  # not walked anyway
_TAGS = {"UUID": "uuid", "LABEL": "label", "PARTUUID": "partuuid", "PARTLABEL": "partlabel"}
_BY = {
    "by-uuid": "uuid",
    "by-label": "label",
    "by-partuuid": "partuuid",
    "by-partlabel": "partlabel",
}
# sda2, xvda2, vdb1, hda1; nvme0n1p2, mmcblk0p1: the trailing number is the partition's.
_PART_DEVICE = re.compile(r"([shv]d[a-z]+|xvd[a-z]+)(\d+)|(nvme\d+n\d+|mmcblk\d+)p(\d+)")
_MAPPER_DASH = re.compile(r"(?<!-)-(?!-)")  # vg-lv; a dash inside a name is doubled
_OCTAL = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True, slots=True)
class Mount:
    """One fstab entry we can act on: its device as written, its key, where it is mounted."""

    spec: str
    key: str | None  # None: a device form we cannot map (reported)
    mountpoint: str  # root-relative posix path without a leading slash ('' for the root)
    fstype: str
    disk: str = ""  # the disk of a device name (`nvme0n1` of /dev/nvme0n1p2), else ''


def _unescape(field: str) -> str:
    """Undoes fstab's octal escapes (a space is written as backslash-040)."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def lv_key(vg: str, lv: str) -> str:
    """The key of a logical volume, shared by `/dev/mapper/vg-lv` and `/dev/vg/lv`."""
    return f"lv:{vg}/{lv}"


def spec_key(spec: str) -> str | None:
    """The key a device spec is matched by; None for forms that name no volume we can see."""
    tag, sep, value = spec.partition("=")
    if sep and tag.upper() in _TAGS:
        value = value.strip("\"'")
        kind = _TAGS[tag.upper()]
        return (
            f"{kind}:{value.lower() if kind in ('uuid', 'partuuid') else value}" if value else None
        )
    if not spec.startswith("/dev/"):
        return None
    parts = spec[5:].split("/")
    if len(parts) == 3 and parts[0] == "disk" and parts[1] in _BY and parts[2]:
        kind = _BY[parts[1]]
        value = parts[2].lower() if kind in ("uuid", "partuuid") else parts[2]
        return f"{kind}:{value}"
    if len(parts) == 2 and parts[0] == "mapper":
        halves = _MAPPER_DASH.split(parts[1])
        if len(halves) == 2 and all(halves):
            vg, lv = (h.replace("--", "-") for h in halves)
            return lv_key(vg, lv)
        return None
    if len(parts) == 2 and parts[0] not in ("disk", "mapper") and all(parts):
        return lv_key(parts[0], parts[1])
    if len(parts) == 1:
        found = _PART_DEVICE.fullmatch(parts[0])
        if found:
            return f"part:{int(found.group(2) or found.group(4))}"
    return None


def device_disk(spec: str) -> str:
    """The disk a partition device name is on (`xvda` of /dev/xvda1); '' for other forms."""
    found = _PART_DEVICE.fullmatch(spec[5:]) if spec.startswith("/dev/") else None
    return (found.group(1) or found.group(3)) if found else ""


def _mountpoint(field: str) -> str | None:
    """The root-relative mount point, or None when it is not a path inside the root."""
    path = _unescape(field)
    if not path.startswith("/") or "\0" in path:
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return posixpath.join(*parts) if parts else ""


def parse_fstab(text: str, where: str, problems: list[str]) -> list[Mount]:
    """The entries that mount a local file system (later entries win per mount point).

    The root's own entry is kept too (mount point ''): its device name, if it has one, tells
    which disk this is.
    Pseudo, network, boot, swap and bind entries are skipped quietly; file system types we do
    not read are reported in `problems` (prefixed with `where`).
    """
    mounts: dict[str, Mount] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0].startswith("#"):
            continue
        spec, target = _unescape(fields[0]), fields[1]
        fstype = fields[2].lower() if len(fields) > 2 else "auto"
        options = fields[3].split(",") if len(fields) > 3 else []
        mountpoint = _mountpoint(target)
        if mountpoint == "":
            mounts[""] = Mount(spec, spec_key(spec), "", fstype, device_disk(spec))
            continue
        if mountpoint is None or fstype in QUIET_TYPES:
            continue
        if fstype.startswith("fuse") or mountpoint.split("/")[0] in QUIET_MOUNTS:
            continue
        if "bind" in options or "rbind" in options:
            continue  # the bound directory is read where it lives
        if fstype not in READ_TYPES:
            problems.append(f"{where}: /{mountpoint} is {fstype}, a file system not read")
            continue
        mounts[mountpoint] = Mount(spec, spec_key(spec), mountpoint, fstype, device_disk(spec))
    return list(mounts.values())
