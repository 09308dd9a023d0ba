"""Compliance frameworks: requirements mapped to checks, scored from the stored findings."""

from opencwpp.compliance.model import Framework, Requirement, load_framework
from opencwpp.compliance.registry import builtin_frameworks, discover, get_framework
from opencwpp.compliance.scoring import (
    MANUAL,
    FrameworkStatus,
    RequirementStatus,
    assess_framework,
    count_findings,
    framework_status,
)

__all__ = [
    "MANUAL",
    "Framework",
    "FrameworkStatus",
    "Requirement",
    "RequirementStatus",
    "assess_framework",
    "builtin_frameworks",
    "count_findings",
    "discover",
    "framework_status",
    "get_framework",
    "load_framework",
]
