"""A compliance framework file: requirements mapped to the checks that assess them.

One YAML file per framework under `compliance/frameworks/`. A requirement is either automated
(its `checks` decide it) or manual (a person must judge it; `checks`, if any, only give
supporting evidence). Requirements with no check and no manual flag are not covered yet.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from opencwpp.core.errors import ConfigError

_FRAMEWORK_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9.]+)*$")


class Requirement(BaseModel):
    """One requirement (control) of a framework, in our own short words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    title: str = Field(min_length=3, max_length=200)
    checks: tuple[str, ...] = ()
    manual: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: object) -> object:
        # YAML reads `1.10` as the float 1.1: requirement ids must be quoted strings.
        if not isinstance(value, str):
            raise ValueError(f"requirement id {value!r} must be a quoted string")
        return value

    @property
    def automated(self) -> bool:
        """Whether our checks decide this requirement (not manual, at least one check)."""
        return not self.manual and bool(self.checks)


class Framework(BaseModel):
    """A framework: identity, source and its requirements in document order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(min_length=3)
    version: str = Field(min_length=1)
    source: str = Field(min_length=8)
    requirements: tuple[Requirement, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _FRAMEWORK_ID.match(value):
            raise ValueError("must be lower-case words joined by '-', e.g. cis-aws-5.0")
        return value

    @field_validator("requirements")
    @classmethod
    def _unique(cls, value: tuple[Requirement, ...]) -> tuple[Requirement, ...]:
        seen: set[str] = set()
        for req in value:
            if req.id in seen:
                raise ValueError(f"duplicate requirement id {req.id!r}")
            seen.add(req.id)
        return value

    @cached_property
    def by_id(self) -> dict[str, Requirement]:
        """Requirements keyed by id."""
        return {r.id: r for r in self.requirements}

    @property
    def check_ids(self) -> set[str]:
        """Every check any requirement names."""
        return {c for r in self.requirements for c in r.checks}

    @property
    def automated_share(self) -> float:
        """Share of requirements our checks decide (0..1)."""
        return sum(1 for r in self.requirements if r.automated) / len(self.requirements)

    def requirements_of(self, check_id: str) -> list[str]:
        """Ids of the requirements that name `check_id`."""
        return [r.id for r in self.requirements if check_id in r.checks]


def load_framework(path: Path) -> Framework:
    """Reads and validates one framework file; errors name the file and the problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read framework {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with id, name, version, requirements")
    try:
        return Framework.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from err
