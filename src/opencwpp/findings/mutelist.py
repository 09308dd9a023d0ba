"""Suppressions: data with an owner, a reason and an expiry, never a silent skip.

A muted finding keeps its place in the lake with status MUTED and the rule's reason; an expired
rule no longer mutes anything. The expiry is required: a suppression nobody has to look at again
becomes a permanent blind spot. A rule matches on check, account, region, resource (uid or name)
and resource tags; errors in a mutelist file name the line of the bad entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

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
    # Resource tags that must all be present, each value matching its glob (keys match exactly).
    tags: dict[str, str] = Field(default_factory=dict)
    reason: str = Field(min_length=3)
    owner: str = Field(min_length=1)
    expires: date  # the last day the rule mutes

    def active(self, today: date) -> bool:
        """Whether the rule still applies on `today`."""
        return today <= self.expires

    def matches(self, finding: Finding) -> bool:
        """Whether the rule covers this finding (resource matches its uid or its name)."""
        res = finding.resource
        return (
            fnmatchcase(finding.check_id, self.check)
            and (fnmatchcase(res.uid, self.resource) or fnmatchcase(res.name, self.resource))
            and fnmatchcase(res.account_id, self.account)
            and fnmatchcase(res.region or "", self.region)
            and self._tags_match(res.tags)
        )

    def _tags_match(self, tags: dict[str, str]) -> bool:
        return all(
            key in tags and fnmatchcase(str(tags[key]), pattern)
            for key, pattern in self.tags.items()
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

    def active(self, today: date | None = None) -> list[MuteRule]:
        """The rules in force on `today`, in file order (the first that matches wins)."""
        today = today or date.today()
        return [r for r in self.rules if r.active(today)]

    def apply(self, findings: Iterable[Finding], today: date | None = None) -> list[Finding]:
        """Marks failing findings that an active rule covers as MUTED, with the rule's reason.

        `mute_sql` does the same in SQL over staged findings; tests hold the two equal.
        """
        active = self.active(today)
        out = []
        for finding in findings:
            rule = next((r for r in active if r.matches(finding)), None)
            if rule is not None and finding.status is Status.FAIL:
                reason = f"muted by {rule.owner}: {rule.reason}"
                finding = replace(finding, status=Status.MUTED, status_reason=reason)
            out.append(finding)
        return out


def _line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """1-based line of the deepest YAML node on the error's path (key nodes for mapping keys)."""
    node, line = root, None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            line = pair[0].start_mark.line + 1
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            break
    else:
        if node is not None and not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            line = node.start_mark.line + 1
    return line


def load_mutelist(path: Path) -> Mutelist:
    """Reads a mutelist YAML file (`mutes: [...]`); errors name the file, the line and the key."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw: Any = yaml.safe_load(text) or {}
    except OSError as err:
        raise ConfigError(f"cannot read mutelist {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {str(err).splitlines()[0]}") from err
    try:
        parsed = _MutelistFile.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        line = _line_of(root, first["loc"])
        at = f" (line {line})" if line is not None else ""
        raise ConfigError(f"{path}: {where}: {first['msg']}{at}") from err
    return Mutelist(tuple(parsed.mutes))
