"""Suppressions: data with an owner, a reason and an expiry, never a silent skip.

A muted finding keeps its place in the lake with status MUTED and the rule's reason; an expired
rule no longer mutes anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opencwpp.core.errors import ConfigError
from opencwpp.core.models import Finding, Status


class MuteRule(BaseModel):
    """One suppression. Patterns are shell globs; `*` matches everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str = Field(min_length=1)
    resource: str = "*"
    account: str = "*"
    region: str = "*"
    reason: str = Field(min_length=3)
    owner: str = Field(min_length=1)
    expires: date | None = None

    def active(self, today: date) -> bool:
        """Whether the rule still applies on `today`."""
        return self.expires is None or today <= self.expires

    def matches(self, finding: Finding) -> bool:
        """Whether the rule covers this finding (resource matches its uid or its name)."""
        res = finding.resource
        return (
            fnmatchcase(finding.check_id, self.check)
            and (fnmatchcase(res.uid, self.resource) or fnmatchcase(res.name, self.resource))
            and fnmatchcase(res.account_id, self.account)
            and fnmatchcase(res.region or "", self.region)
        )


class _MutelistFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mutes: list[MuteRule] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Mutelist:
    """The suppressions in force."""

    rules: tuple[MuteRule, ...] = ()

    def expired(self, today: date | None = None) -> list[MuteRule]:
        """Rules past their expiry, to remind their owners."""
        today = today or date.today()
        return [r for r in self.rules if not r.active(today)]

    def apply(self, findings: Iterable[Finding], today: date | None = None) -> list[Finding]:
        """Marks failing findings that an active rule covers as MUTED, with the rule's reason."""
        today = today or date.today()
        active = [r for r in self.rules if r.active(today)]
        out = []
        for finding in findings:
            rule = next((r for r in active if r.matches(finding)), None)
            if rule is not None and finding.status is Status.FAIL:
                reason = f"muted by {rule.owner}: {rule.reason}"
                finding = replace(finding, status=Status.MUTED, status_reason=reason)
            out.append(finding)
        return out


def load_mutelist(path: Path) -> Mutelist:
    """Reads a mutelist YAML file (`mutes: [...]`); errors name the file and the key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigError(f"cannot read mutelist {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from err
    try:
        parsed = _MutelistFile.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from err
    return Mutelist(tuple(parsed.mutes))
