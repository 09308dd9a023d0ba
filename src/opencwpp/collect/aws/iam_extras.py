"""IAM SAML/OIDC identity providers and instance profiles (federation trust, EC2 roles)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

SAML_PROVIDERS = table(
    "aws_iam_saml_identity_providers",
    columns("account_id arn create_date:ts saml_metadata_document tags:json valid_until:ts"),
    cq_id_from=["arn"],
)
OIDC_PROVIDERS = table(
    "aws_iam_openid_connect_identity_providers",
    columns("account_id arn tags:json client_id_list:list create_date:ts thumbprint_list:list url"),
    cq_id_from=["arn"],
)
INSTANCE_PROFILES = table(
    "aws_iam_instance_profiles",
    columns(
        "account_id id tags:json arn create_date:ts instance_profile_id instance_profile_name "
        "path roles:json"
    ),
    cq_id_from=["account_id", "id"],
)


def transform_saml(account_id: str, arn: str, detail: Mapping[str, Any]) -> Rows:
    """The row of one SAML provider (its metadata document is public, not a secret)."""
    row = shape(
        SAML_PROVIDERS,
        detail,
        account_id=account_id,
        arn=arn,
        saml_metadata_document=detail.get("SAMLMetadataDocument"),
    )
    return {SAML_PROVIDERS: [with_ids(SAML_PROVIDERS, row)]}


def transform_oidc(account_id: str, arn: str, detail: Mapping[str, Any]) -> Rows:
    """The row of one OpenID Connect provider (URL, audiences, thumbprints)."""
    row = shape(
        OIDC_PROVIDERS,
        detail,
        account_id=account_id,
        arn=arn,
        client_id_list=detail.get("ClientIDList") or [],
        thumbprint_list=detail.get("ThumbprintList") or [],
    )
    return {OIDC_PROVIDERS: [with_ids(OIDC_PROVIDERS, row)]}


def transform_instance_profile(
    account_id: str, profile: Mapping[str, Any], tags: list[Mapping[str, Any]]
) -> Rows:
    """The row of one instance profile with the roles it hands to instances."""
    roles = list(profile.get("Roles", []))
    row = shape(
        INSTANCE_PROFILES,
        profile,
        account_id=account_id,
        id=profile.get("InstanceProfileId"),
        roles=roles,
        tags=tags,
    )
    return {INSTANCE_PROFILES: [with_ids(INSTANCE_PROFILES, row)]}


def fetch_identity_providers(ctx: SessionContext, region: str | None) -> Rows:
    """Every SAML and OIDC identity provider of the account."""
    iam = ctx.client("iam")
    out: Rows = {SAML_PROVIDERS: [], OIDC_PROVIDERS: []}
    for item in iam.list_saml_providers().get("SAMLProviderList", []):
        detail = iam.get_saml_provider(SAMLProviderArn=item["Arn"])
        out[SAML_PROVIDERS] += transform_saml(ctx.account_id, item["Arn"], detail)[SAML_PROVIDERS]
    for item in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", []):
        detail = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=item["Arn"])
        out[OIDC_PROVIDERS] += transform_oidc(ctx.account_id, item["Arn"], detail)[OIDC_PROVIDERS]
    return out


def fetch_instance_profiles(ctx: SessionContext, region: str | None) -> Rows:
    """Every instance profile of the account, with its roles and tags."""
    iam = ctx.client("iam")
    rows = []
    for profile in paginate(iam, "list_instance_profiles", "InstanceProfiles"):
        # ListInstanceProfiles omits tags; GetInstanceProfile carries them.
        name = profile["InstanceProfileName"]
        detail = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        tags = detail.get("Tags", [])
        rows += transform_instance_profile(ctx.account_id, profile, tags)[INSTANCE_PROFILES]
    return {INSTANCE_PROFILES: rows}


register(
    Resource(
        name="iam.identity_providers",
        service="iam",
        tables=(SAML_PROVIDERS, OIDC_PROVIDERS),
        permissions=(
            "iam:ListSAMLProviders",
            "iam:GetSAMLProvider",
            "iam:ListOpenIDConnectProviders",
            "iam:GetOpenIDConnectProvider",
        ),
        fetch=fetch_identity_providers,
        global_service=True,
        description="IAM SAML and OpenID Connect identity providers (federation trust).",
    )
)
register(
    Resource(
        name="iam.instance_profiles",
        service="iam",
        tables=(INSTANCE_PROFILES,),
        permissions=("iam:ListInstanceProfiles", "iam:GetInstanceProfile"),
        fetch=fetch_instance_profiles,
        global_service=True,
        description="IAM instance profiles and the roles they give to EC2 instances.",
    )
)
