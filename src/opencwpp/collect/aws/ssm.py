"""SSM Parameter Store: parameter metadata only (DescribeParameters, never GetParameter)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, empty, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

PARAMETERS = table(
    "aws_ssm_parameters",
    columns(
        """
        account_id region name tags:json allowed_pattern data_type description key_id
        last_modified_date:ts last_modified_user policies:json tier type version:int
        """
    ),
    cq_id_from=["account_id", "region", "name"],
)


def transform_parameter(
    account_id: str, region: str, parameter: Mapping[str, Any], tags: list[Mapping[str, Any]]
) -> Rows:
    """The metadata row of one parameter (DescribeParameters never returns the value)."""
    row = shape(PARAMETERS, parameter, account_id=account_id, region=region, tags=tags)
    return {PARAMETERS: [with_ids(PARAMETERS, row)]}


def fetch_parameters(ctx: SessionContext, region: str | None) -> Rows:
    """Every parameter's metadata and tags in one region."""
    region = need_region("ssm.parameters", region)
    ssm = ctx.client("ssm", region)
    out = empty([PARAMETERS])
    for parameter in paginate(ssm, "describe_parameters", "Parameters"):
        tags = ssm.list_tags_for_resource(
            ResourceType="Parameter", ResourceId=parameter["Name"]
        ).get("TagList", [])
        out[PARAMETERS].extend(
            transform_parameter(ctx.account_id, region, parameter, tags)[PARAMETERS]
        )
    return out


PARAMETERS_RESOURCE = register(
    Resource(
        name="ssm.parameters",
        service="ssm",
        tables=(PARAMETERS,),
        permissions=("ssm:DescribeParameters", "ssm:ListTagsForResource"),
        fetch=fetch_parameters,
        description="SSM parameters: type (String vs SecureString), KMS key, tier (never values).",
    )
)
