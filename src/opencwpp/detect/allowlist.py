"""Allow-list of known automation: detections muted for identities that are expected to do it.

Each entry names an identity ARN pattern (shell glob, case-insensitive: Terraform's role, a CI
runner), optionally the rules it covers (a glob over the finding check id `sigma:<uuid>` /
`stateful:<id>`, the bare rule id, or the rule title), who owns the exception, why, and until
when. A covered alert stays in the lake as MUTED with that reason, never silently dropped; an
expired entry mutes nothing and is reported. The file is `cwpp.yaml` (key `detect.allow`) or
any YAML file with a top-level `allow:` list, given with `--allowlist`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opencwpp.core.errors import ConfigError
from opencwpp.core.models import Finding, Status


class AllowEntry(BaseModel):
    """One allowed (identity, rules) pair with its owner, reason and expiry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    identity: str = Field(min_length=1)
    rule: str = "*"
    owner: str = Field(min_length=1)
    reason: str = Field(min_length=3)
    expires: date | None = None

    def active(self, today: date) -> bool:
        """Whether the entry still applies on `today`."""
        return self.expires is None or today <= self.expires

    def matches(self, finding: Finding) -> bool:
        """Whether the entry covers this alert (identity = the finding's resource uid)."""
        rule = self.rule.lower()
        rule_id = finding.check_id.partition(":")[2]
        return fnmatchcase(finding.resource.uid.lower(), self.identity.lower()) and any(
            fnmatchcase(name.lower(), rule) for name in (finding.check_id, rule_id, finding.title)
        )


class _AllowFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow: list[AllowEntry] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AllowList:
    """The allow-list entries in force."""

    entries: tuple[AllowEntry, ...] = ()

    def expired(self, today: date | None = None) -> list[AllowEntry]:
        """Entries past their expiry, to remind their owners."""
        today = today or date.today()
        return [e for e in self.entries if not e.active(today)]

    def apply(self, findings: Iterable[Finding], today: date | None = None) -> list[Finding]:
        """Failing alerts covered by an active entry become MUTED with the entry's reason."""
        today = today or date.today()
        active = [e for e in self.entries if e.active(today)]
        out = []
        for finding in findings:
            entry = next((e for e in active if e.matches(finding)), None)
            if entry is not None and finding.status is Status.FAIL:
                reason = f"allow-listed by {entry.owner}: {entry.reason}"
                evidence = finding.evidence | {"allow_list": entry.model_dump(mode="json")}
                finding = replace(
                    finding, status=Status.MUTED, status_reason=reason, evidence=evidence
                )
            out.append(finding)
        return out


def _section(raw: Any) -> Any:
    """`detect.allow` of a cwpp.yaml, or the file itself when it has a top-level `allow`."""
    if isinstance(raw, dict) and isinstance(raw.get("detect"), dict):
        return {"allow": raw["detect"].get("allow") or []}
    if isinstance(raw, dict) and "allow" in raw:
        return {"allow": raw["allow"] or []}
    if isinstance(raw, dict):
        return {"allow": []}
    return raw


def parse_allowlist(raw: Any, source: str = "allow-list") -> AllowList:
    """Validates already-loaded YAML data; errors name the source and the key."""
    try:
        parsed = _AllowFile.model_validate(_section(raw))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise ConfigError(f"{source}: detect.{where}: {first['msg']}") from err
    return AllowList(tuple(parsed.allow))


def load_allowlist(path: Path) -> AllowList:
    """Reads the allow-list from a YAML file (`detect.allow` or top-level `allow`)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigError(f"cannot read allow-list {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from err
    return parse_allowlist(raw, str(path))
