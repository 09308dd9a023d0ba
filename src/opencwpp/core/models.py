"""The finding model shared by every analysis, aligned with OCSF finding classes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a failing finding is, in OCSF's order."""

    INFORMATIONAL = "informational"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for informational up to 4 for critical, for sorting and thresholds."""
        return list(Severity).index(self)

    @property
    def ocsf_id(self) -> int:
        """OCSF severity_id (1 informational .. 5 critical)."""
        return self.rank + 1


class Pillar(StrEnum):
    """The four protections of a CWPP."""

    VULNERABILITY = "vulnerability"
    ACCESS = "access-control"
    ENCRYPTION = "data-encryption"
    THREAT = "threat-detection"


class Status(StrEnum):
    """Outcome of one analysis on one resource."""

    FAIL = "FAIL"
    PASS = "PASS"  # noqa: S105 - a status, not a password
    MUTED = "MUTED"
    NOT_ASSESSED = "NOT_ASSESSED"


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """The resource a finding is about. Names and tags come from the cloud: never trusted."""

    uid: str
    type: str
    account_id: str = ""
    region: str = ""
    name: str = ""
    tags: dict[str, str] = field(default_factory=dict)


def finding_id(check_id: str, resource_uid: str, account_id: str = "", region: str = "") -> str:
    """Stable id of a finding: the same check on the same resource gives the same id every run."""
    key = "\x1f".join((check_id, account_id, region, resource_uid))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one analysis (check, rule, matcher) on one resource."""

    check_id: str
    title: str
    pillar: Pillar
    severity: Severity
    status: Status
    resource: ResourceRef
    status_reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation: str = ""
    compliance: dict[str, list[str]] = field(default_factory=dict)
    mitre_attack: tuple[str, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def id(self) -> str:
        """The finding's stable id."""
        return finding_id(
            self.check_id, self.resource.uid, self.resource.account_id, self.resource.region
        )
