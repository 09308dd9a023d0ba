"""IAM server certificates: TLS certificates uploaded to IAM (metadata only, never key material)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

SERVER_CERTIFICATES = table(
    "aws_iam_server_certificates",
    columns(
        "account_id id arn path server_certificate_id server_certificate_name "
        "expiration:ts upload_date:ts"
    ),
    cq_id_from=["account_id", "id"],
)


def transform_server_certificate(account_id: str, metadata: Mapping[str, Any]) -> Rows:
    """The row of one certificate, from ListServerCertificates' metadata."""
    row = shape(
        SERVER_CERTIFICATES,
        metadata,
        account_id=account_id,
        id=metadata.get("ServerCertificateId"),
        arn=metadata.get("Arn"),
    )
    return {SERVER_CERTIFICATES: [with_ids(SERVER_CERTIFICATES, row)]}


def fetch_server_certificates(ctx: SessionContext, region: str | None) -> Rows:
    """Every server certificate of the account (IAM is global)."""
    iam = ctx.client("iam")
    rows = []
    for item in paginate(iam, "list_server_certificates", "ServerCertificateMetadataList"):
        rows += transform_server_certificate(ctx.account_id, item)[SERVER_CERTIFICATES]
    return {SERVER_CERTIFICATES: rows}


register(
    Resource(
        name="iam.server_certificates",
        service="iam",
        tables=(SERVER_CERTIFICATES,),
        permissions=("iam:ListServerCertificates",),
        fetch=fetch_server_certificates,
        global_service=True,
        description="IAM server certificates: names, ARNs and expiry dates.",
    )
)
