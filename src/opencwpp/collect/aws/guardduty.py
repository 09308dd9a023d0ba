"""GuardDuty detectors: whether threat detection is on in each region, and with which features."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import arn, columns, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

DETECTORS = table(
    "aws_guardduty_detectors",
    columns(
        "request_account_id request_region arn service_role status created_at:ts "
        "data_sources:json features:json finding_publishing_frequency tags:json updated_at:ts id"
    ),
    cq_id_from=["request_account_id", "request_region", "arn", "id"],
)


def transform_detector(
    account_id: str, region: str, detector_id: str, detector: Mapping[str, Any]
) -> Rows:
    """The row of one detector (GetDetector answer); CloudQuery's `request_*` scope columns."""
    row = shape(
        DETECTORS,
        detector,
        pascal_json=True,
        request_account_id=account_id,
        request_region=region,
        arn=arn("guardduty", region, account_id, f"detector/{detector_id}"),
        id=detector_id,
        tags=detector.get("Tags") or {},
    )
    return {DETECTORS: [with_ids(DETECTORS, row)]}


def fetch_detectors(ctx: SessionContext, region: str | None) -> Rows:
    """The region's GuardDuty detectors (none: GuardDuty was never enabled there)."""
    region = need_region("guardduty.detectors", region)
    guardduty = ctx.client("guardduty", region)
    rows = []
    for detector_id in paginate(guardduty, "list_detectors", "DetectorIds"):
        detector = guardduty.get_detector(DetectorId=detector_id)
        rows += transform_detector(ctx.account_id, region, detector_id, detector)[DETECTORS]
    return {DETECTORS: rows}


register(
    Resource(
        name="guardduty.detectors",
        service="guardduty",
        tables=(DETECTORS,),
        permissions=("guardduty:ListDetectors", "guardduty:GetDetector"),
        fetch=fetch_detectors,
        description="GuardDuty detectors: status, features, publishing frequency.",
    )
)
