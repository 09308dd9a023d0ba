"""The shared vocabulary of opencwpp: findings, severities, pillars, errors, registries."""

from opencwpp.core.errors import (
    CheckDefinitionError,
    ConfigError,
    CredentialsError,
    CwppError,
    LakeError,
    UsageError,
)
from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status, finding_id
from opencwpp.core.registry import Registry

__all__ = [
    "CheckDefinitionError",
    "ConfigError",
    "CredentialsError",
    "CwppError",
    "Finding",
    "LakeError",
    "Pillar",
    "Registry",
    "ResourceRef",
    "Severity",
    "Status",
    "UsageError",
    "finding_id",
]
