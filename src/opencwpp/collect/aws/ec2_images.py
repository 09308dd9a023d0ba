"""EC2 AMIs the account owns, and who may launch them.

DescribeImages with `Owners=["self"]` lists the account's own images, not the public catalogue.
Each image's `launchPermission` attribute (the group `all` = public, account ids, organization
and OU ARNs) is split into `cwpp_aws_resource_shares` rows (attribute `launchPermission`), like
EBS and RDS snapshot sharing. CloudQuery's `aws_ec2_image_launch_permissions` is not filled: its
`_cq_id` derives from the image ARN alone (two grantees of one image would collide) and it has no
account or region column, so a regional sync could not replace its scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opencwpp.collect.aws._shape import arn, columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.aws._shares import ACCOUNT, GROUP, RESOURCE_SHARES
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, optional, paginate, register
from opencwpp.lake.schema import cq_id, table

IMAGES = table(
    "aws_ec2_images",
    columns(
        """
        account_id region arn tags:json architecture block_device_mappings:json boot_mode
        creation_date:ts deprecation_time:ts description ena_support:bool hypervisor image_id
        image_location image_owner_alias image_type imds_support kernel_id name owner_id platform
        platform_details product_codes:json public:bool ramdisk_id root_device_name
        root_device_type source_instance_id sriov_net_support state state_reason:json tpm_support
        usage_operation virtualization_type
        """
    ),
    cq_id_from=["account_id", "region", "arn"],
)
ATTRIBUTE = "launchPermission"
ORGANIZATION = "organization"
ORGANIZATIONAL_UNIT = "organizational_unit"
# Launch permission item key -> grantee type of cwpp_aws_resource_shares.
_GRANTEE_KEYS = (
    ("Group", GROUP),
    ("UserId", ACCOUNT),
    ("OrganizationArn", ORGANIZATION),
    ("OrganizationalUnitArn", ORGANIZATIONAL_UNIT),
)
_GONE = frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"})


def launch_permission_shares(
    parent: Row, permissions: Iterable[Mapping[str, Any]] | None
) -> list[Row]:
    """One `cwpp_aws_resource_shares` row per grantee of an image's launch permission."""
    rows: dict[str, Row] = {}
    for item in permissions or []:
        if not isinstance(item, Mapping):
            continue
        for key, kind in _GRANTEE_KEYS:
            if not item.get(key):
                continue
            row: Row = {
                "_cq_parent_id": parent.get("_cq_id"),
                "account_id": parent["account_id"],
                "region": parent["region"],
                "source_table": IMAGES.name,
                "resource_arn": parent["arn"],
                "attribute": ATTRIBUTE,
                "grantee_type": kind,
                "grantee": str(item[key]),
            }
            row["_cq_id"] = cq_id(row, RESOURCE_SHARES.cq_id_from)
            rows.setdefault(row["_cq_id"], row)
    return list(rows.values())


def transform_image(
    account_id: str,
    region: str,
    image: Mapping[str, Any],
    permissions: Iterable[Mapping[str, Any]] | None,
) -> Rows:
    """The image row and one share row per launch permission grantee."""
    image_arn = arn("ec2", region, account_id, f"image/{image['ImageId']}")
    row = with_ids(
        IMAGES, shape(IMAGES, image, account_id=account_id, region=region, arn=image_arn)
    )
    return {IMAGES: [row], RESOURCE_SHARES: launch_permission_shares(row, permissions)}


def fetch_images(ctx: SessionContext, region: str | None) -> Rows:
    """The account's own AMIs of one region with their launch permissions."""
    region = need_region("ec2.images", region)
    ec2 = ctx.client("ec2", region)
    out = empty([IMAGES, RESOURCE_SHARES])
    for image in paginate(ec2, "describe_images", "Images", Owners=["self"]):
        answer = optional(
            ec2.describe_image_attribute,
            absent=_GONE,
            ImageId=image["ImageId"],
            Attribute=ATTRIBUTE,
        )
        if answer is None:
            continue  # deregistered since the listing
        permissions = answer.get("LaunchPermissions")
        extend(out, transform_image(ctx.account_id, region, image, permissions))
    return out


register(
    Resource(
        name="ec2.images",
        service="ec2",
        tables=(IMAGES, RESOURCE_SHARES),
        permissions=("ec2:DescribeImages", "ec2:DescribeImageAttribute"),
        fetch=fetch_images,
        description="The account's own AMIs and who may launch them (public, accounts, orgs).",
    )
)
