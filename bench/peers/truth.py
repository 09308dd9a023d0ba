"""The ground truth of a generated estate: every planted defect and every near-miss good resource.

It describes the cloud, not any tool's rules: a defect is (kind, resource, pillar) where `kind`
names what is wrong in plain cloud terms ("security group lets the internet reach SSH"), and a
near-miss is a resource that looks like that defect but is not one (SSH open to one private
range only). Tools are scored against it through per-tool mapping files (check id -> kinds).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PILLARS = ("access-control", "data-encryption", "threat-detection", "vulnerability")


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource by every identifier a tool might report it by.

    `scope` is "resource" for an ordinary resource, "region" for a per-region account setting
    (EBS default encryption, GuardDuty) and "account" for an account-wide one (password policy):
    a finding on such a setting names whatever the tool likes, so it is matched by scope instead.
    """

    type: str
    uid: str
    name: str = ""
    region: str = ""
    aliases: tuple[str, ...] = ()
    scope: str = "resource"

    def identifiers(self) -> set[str]:
        """Every string that identifies this resource (ARN, id, name, aliases), lower-cased."""
        return {v.lower() for v in (self.uid, self.name, *self.aliases) if v}


@dataclass(frozen=True, slots=True)
class Entry:
    """One planted defect or one near-miss: a kind on a resource, with a human reason."""

    kind: str
    pillar: str
    resource: Resource
    why: str = ""


@dataclass(slots=True)
class GroundTruth:
    """What an estate holds: defects that must be found and near-misses that must not be."""

    scale: int
    account_id: str
    regions: tuple[str, ...]
    defects: list[Entry] = field(default_factory=list)
    near_misses: list[Entry] = field(default_factory=list)
    resource_count: int = 0

    def defect(self, kind: str, pillar: str, resource: Resource, why: str = "") -> None:
        """Records a planted defect."""
        _check_pillar(pillar)
        self.defects.append(Entry(kind, pillar, resource, why))

    def near_miss(self, kind: str, pillar: str, resource: Resource, why: str = "") -> None:
        """Records a good resource that must not be flagged for `kind`."""
        _check_pillar(pillar)
        self.near_misses.append(Entry(kind, pillar, resource, why))

    def kinds(self) -> set[str]:
        """Every kind the estate plants or near-misses."""
        return {e.kind for e in (*self.defects, *self.near_misses)}

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the ground-truth file)."""
        return {
            "scale": self.scale,
            "account_id": self.account_id,
            "regions": list(self.regions),
            "resource_count": self.resource_count,
            "defects": [asdict(e) for e in self.defects],
            "near_misses": [asdict(e) for e in self.near_misses],
        }

    def save(self, path: Path) -> None:
        """Writes the ground-truth JSON file."""
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroundTruth:
        """Reads what `to_json` wrote."""
        truth = cls(
            scale=int(data["scale"]),
            account_id=str(data["account_id"]),
            regions=tuple(data["regions"]),
            resource_count=int(data.get("resource_count", 0)),
        )
        truth.defects = [_entry(e) for e in data["defects"]]
        truth.near_misses = [_entry(e) for e in data["near_misses"]]
        return truth

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        """Reads a ground-truth file."""
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def _entry(data: dict[str, Any]) -> Entry:
    r = data["resource"]
    resource = Resource(
        type=r["type"],
        uid=r["uid"],
        name=r.get("name", ""),
        region=r.get("region", ""),
        aliases=tuple(r.get("aliases", ())),
        scope=r.get("scope", "resource"),
    )
    return Entry(data["kind"], data["pillar"], resource, data.get("why", ""))


def _check_pillar(pillar: str) -> None:
    if pillar not in PILLARS:
        raise ValueError(f"unknown pillar {pillar!r}")
