"""Stateful detections over `aws_cloudtrail_events`: baselines, bursts, sequences, theft."""

from __future__ import annotations

from opencwpp.detect.sigma.rules import CompiledRule
from opencwpp.detect.stateful import (
    bursts,
    first_seen,
    instance_credentials,
    sequences,
    sharing,
)
from opencwpp.detect.stateful.base import StatefulDetection

DETECTIONS: tuple[StatefulDetection, ...] = (
    *instance_credentials.DETECTIONS,
    *bursts.DETECTIONS,
    *sequences.DETECTIONS,
    *first_seen.DETECTIONS,
    *sharing.DETECTIONS,
)


def stateful_rules() -> list[CompiledRule]:
    """Every stateful detection, as engine rules."""
    return [d.compiled() for d in DETECTIONS]


__all__ = ["DETECTIONS", "StatefulDetection", "stateful_rules"]
