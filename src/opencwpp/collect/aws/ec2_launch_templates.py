"""EC2 launch templates and their versions; user data scanned, never stored in clear.

A version's `LaunchTemplateData.UserData` (base64, maybe gzip) is a secret carrier: it is decoded,
scanned for secrets and replaced by its fingerprint (`redacted:sha256:...` of the decoded text),
so equal scripts across versions still compare equal. Secret-looking values found in it become
`cwpp_aws_secret_exposures` rows (resource = the template ARN, location names the version).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from opencwpp.collect.aws._secrets import (
    EXPOSURES,
    Exposure,
    decode_user_data,
    exposure_rows,
    fingerprint,
    scan_text,
)
from opencwpp.collect.aws._shape import arn, columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import (
    Resource,
    Row,
    Rows,
    SessionContext,
    error_code,
    paginate,
    register,
)
from opencwpp.lake.schema import table

TEMPLATES = table(
    "aws_ec2_launch_templates",
    columns(
        """
        account_id region arn tags:json create_time:ts created_by default_version_number:int
        latest_version_number:int launch_template_id launch_template_name
        """
    ),
    cq_id_from=["arn"],
)
VERSIONS = table(
    "aws_ec2_launch_template_versions",
    columns(
        """
        account_id region arn version_number:int create_time:ts created_by default_version:bool
        launch_template_data:json launch_template_id launch_template_name version_description
        """
    ),
    cq_id_from=["arn", "version_number"],
    parent="aws_ec2_launch_templates",
)
TABLES = (TEMPLATES, VERSIONS, EXPOSURES)
_GONE = frozenset(
    {"InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException"}
)


def template_arn(account_id: str, region: str, template_id: str) -> str:
    """The ARN of a launch template."""
    return arn("ec2", region, account_id, f"launch-template/{template_id}")


def redact_template_data(
    data: Mapping[str, Any] | None, location: str
) -> tuple[dict[str, Any] | None, list[Exposure]]:
    """Launch template data with its user data replaced by a fingerprint; secrets found in it."""
    if data is None:
        return None, []
    out = dict(data)
    encoded = out.get("UserData")
    if not encoded:
        return out, []
    text = decode_user_data(str(encoded))
    out["UserData"] = fingerprint(text)
    return out, scan_text(text, location)


def transform_template(
    account_id: str,
    region: str,
    template: Mapping[str, Any],
    versions: Iterable[Mapping[str, Any]],
) -> Rows:
    """The template row, one row per version (user data redacted), and exposure rows."""
    lt_arn = template_arn(account_id, region, str(template["LaunchTemplateId"]))
    parent = with_ids(
        TEMPLATES, shape(TEMPLATES, template, account_id=account_id, region=region, arn=lt_arn)
    )
    out = empty(TABLES)
    out[TEMPLATES].append(parent)
    found: list[Exposure] = []
    for version in versions:
        number = version.get("VersionNumber")
        data, exposures = redact_template_data(
            version.get("LaunchTemplateData"), f"ec2.launch_template.version {number}.user_data"
        )
        found += exposures
        row: Row = shape(
            VERSIONS,
            version,
            account_id=account_id,
            region=region,
            arn=lt_arn,
            launch_template_data=data,
        )
        out[VERSIONS].append(with_ids(VERSIONS, row, parent))
    out[EXPOSURES] = exposure_rows(
        found,
        account_id=account_id,
        region=region,
        source_table=VERSIONS.name,
        resource_arn=lt_arn,
    )
    return out


def fetch_launch_templates(ctx: SessionContext, region: str | None) -> Rows:
    """Every launch template of one region with all its versions."""
    region = need_region("ec2.launch_templates", region)
    ec2 = ctx.client("ec2", region)
    out = empty(TABLES)
    for template in paginate(ec2, "describe_launch_templates", "LaunchTemplates"):
        try:
            versions = paginate(
                ec2,
                "describe_launch_template_versions",
                "LaunchTemplateVersions",
                LaunchTemplateId=template["LaunchTemplateId"],
            )
        except ClientError as err:
            if error_code(err) in _GONE:
                continue  # deleted since the listing
            raise
        extend(out, transform_template(ctx.account_id, region, template, versions))
    return out


register(
    Resource(
        name="ec2.launch_templates",
        service="ec2",
        tables=TABLES,
        permissions=("ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"),
        fetch=fetch_launch_templates,
        description="EC2 launch templates and versions: IMDS options; user data secrets.",
    )
)
