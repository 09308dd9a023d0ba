"""Sigma field names → SQL over `aws_cloudtrail_events`.

A pySigma processing pipeline renames the CloudTrail fields that are typed text columns
(`eventName` → `event_name`, `userIdentity.arn` → `user_identity_arn`, …). Every other name is
a path: under a nested JSON column when it starts with one (`requestParameters.bucketName` →
`request_parameters`, `$.bucketName`), else into the raw record (`readOnly`, `eventTime`).
A path naming a JSON object or array gives its JSON text, so `requestParameters|contains: x`
searches inside the whole parameters.
"""

from __future__ import annotations

from functools import lru_cache

from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation

from opencwpp.detect.ingest.table import JSON_FIELDS, SCALAR_FIELDS

_TEXT_COLUMNS = {dotted: column for column, kind, dotted in SCALAR_FIELDS if kind == "utf8"}
_TEXT_COLUMNS.pop("userIdentity.sessionContext.attributes.mfaAuthenticated", None)
_JSON_ROOTS = {key: column for column, key in JSON_FIELDS}
COLUMNS = frozenset(_TEXT_COLUMNS.values())


class FieldError(ValueError):
    """A field name that cannot be expressed safely as a column or JSON path."""


@lru_cache(maxsize=1)
def cloudtrail_pipeline() -> ProcessingPipeline:
    """The pipeline renaming CloudTrail's typed top-level fields to our columns."""
    mapping: dict[str | None, str | list[str]] = {k: v for k, v in _TEXT_COLUMNS.items()}
    return ProcessingPipeline(
        name="opencwpp aws_cloudtrail_events",
        priority=20,
        items=[
            ProcessingItem(
                identifier="cloudtrail_columns",
                transformation=FieldMappingTransformation(mapping),
            )
        ],
    )


def _json_path(parts: list[str]) -> str:
    for part in parts:
        if not part or any(c in part for c in "\"'\\\x00"):
            raise FieldError(f"unsupported field name part {part!r}")
    return "$." + ".".join(f'"{p}"' for p in parts)


def field_sql(name: str) -> str:
    """The SQL expression (text, NULL when absent) for a field after the pipeline ran."""
    if name in COLUMNS:
        return f'"{name}"'
    parts = name.split(".")
    root = _JSON_ROOTS.get(parts[0])
    if root is not None and len(parts) == 1:
        return f'CAST("{root}" AS VARCHAR)'
    if root is not None:
        return f"json_extract_string(\"{root}\", '{_json_path(parts[1:])}')"
    return f"json_extract_string(\"raw\", '{_json_path(parts)}')"


RAW_TEXT = 'CAST("raw" AS VARCHAR)'


def sigma_field_sql(name: str) -> str:
    """SQL for a Sigma field name as a rule writes it (before the pipeline's renaming).

    Correlation rules name fields in `group-by`, `aliases` and `condition.field` outside any
    detection, so the pipeline never sees them: the same renaming is applied here.
    """
    return field_sql(_TEXT_COLUMNS.get(name, name))
