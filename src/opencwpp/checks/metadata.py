"""A check's metadata file (`metadata.yaml`), validated on load."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opencwpp.core.models import Pillar, Severity

_CHECK_ID = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
_TABLE = re.compile(r"^[a-z][a-z0-9_]*$")


class CheckMetadata(BaseModel):
    """What a check is, why it matters and how to fix it: everything but its SQL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=5, max_length=160)
    provider: str = "aws"
    service: str
    resource_type: str
    pillar: Pillar
    severity: Severity
    tables: list[str] = Field(min_length=1)
    # Reference data the check cannot judge without (e.g. end-of-life dates): when one of these
    # tables is empty, the check is NOT_ASSESSED rather than silently judging nothing.
    reference_tables: list[str] = Field(default_factory=list)
    description: str = Field(min_length=10)
    risk: str = Field(min_length=10)
    remediation: str = Field(min_length=10)
    remediation_url: str = ""
    compliance: dict[str, list[str]] = Field(default_factory=dict)
    references: list[str] = Field(default_factory=list)
    mitre_attack: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_are_read(self) -> CheckMetadata:
        unknown = [t for t in self.reference_tables if t not in self.tables]
        if unknown:
            raise ValueError(f"reference_tables not listed in tables: {', '.join(unknown)}")
        return self

    @field_validator("title", "description", "risk", "remediation", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        # YAML folded blocks (`>`) end with a newline that would show up in every report.
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _CHECK_ID.match(value):
            raise ValueError("must be lower_snake_case, e.g. s3_bucket_public_acl")
        return value

    @field_validator("tables")
    @classmethod
    def _table_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _TABLE.match(name):
                raise ValueError(f"not a table name: {name!r}")
        return value
