"""ACM certificates: validity dates, key algorithm, what uses them, renewal eligibility.

`ListCertificates` returns only RSA-1024 and RSA-2048 certificates unless asked for every key
type, so the listing names them all: a check on weak or expiring keys must see every certificate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opencwpp.collect.aws._shape import columns, need_region, shape, tags_of, with_ids
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

CERTIFICATES = table(
    "aws_acm_certificates",
    columns(
        """
        account_id region arn tags:json certificate_authority_arn created_at:ts domain_name
        domain_validation_options:json extended_key_usages:json failure_reason imported_at:ts
        in_use_by:list issued_at:ts issuer key_algorithm key_usages:json not_after:ts
        not_before:ts options:json renewal_eligibility renewal_summary:json revocation_reason
        revoked_at:ts serial signature_algorithm status subject subject_alternative_names:list
        type
        """
    ),
    cq_id_from=["arn"],
)
# Every key type ACM supports (the ListCertificates `keyTypes` filter).
KEY_TYPES = (
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
)


def transform_certificate(
    account_id: str, region: str, certificate: Mapping[str, Any], tags: Sequence[Mapping[str, Any]]
) -> Row:
    """The row of one certificate (from DescribeCertificate)."""
    row = shape(
        CERTIFICATES,
        certificate,
        account_id=account_id,
        region=region,
        arn=certificate["CertificateArn"],
        tags=tags_of(tags),
    )
    return with_ids(CERTIFICATES, row)


def fetch_certificates(ctx: SessionContext, region: str | None) -> Rows:
    """Every certificate of one region, whatever its key type or status."""
    region = need_region("acm.certificates", region)
    acm = ctx.client("acm", region)
    listing = paginate(
        acm,
        "list_certificates",
        "CertificateSummaryList",
        Includes={"keyTypes": list(KEY_TYPES)},
    )
    rows = []
    for summary in listing:
        cert_arn = summary["CertificateArn"]
        certificate = acm.describe_certificate(CertificateArn=cert_arn)["Certificate"]
        tags = acm.list_tags_for_certificate(CertificateArn=cert_arn).get("Tags", [])
        rows.append(transform_certificate(ctx.account_id, region, certificate, tags))
    return {CERTIFICATES: rows}


register(
    Resource(
        name="acm.certificates",
        service="acm",
        tables=(CERTIFICATES,),
        permissions=(
            "acm:ListCertificates",
            "acm:DescribeCertificate",
            "acm:ListTagsForCertificate",
        ),
        fetch=fetch_certificates,
        description="ACM certificates: expiry, key algorithm, usage and renewal eligibility.",
    )
)
