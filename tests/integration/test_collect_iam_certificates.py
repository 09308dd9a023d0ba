"""IAM server certificates over HTTP against moto, into the lake on DuckDB and PostgreSQL, and
the expired-certificate check over what was collected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opencwpp.checks import builtin_checks, run_check
from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import sync_aws
from opencwpp.core.models import Status
from opencwpp.lake.lake import Lake
from tests.integration.test_collect_detection_services import account_session

ACCOUNT = "121212121212"


def _certificate(name: str, not_after: datetime) -> tuple[str, str]:
    """A self-signed certificate and its key, PEM (test material, made here)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.example.org")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=400))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), pem_key.decode()


@pytest.fixture(scope="module")
def session(moto_endpoint: str) -> boto3.Session:
    """The account with one uploaded certificate (once for both lake backends).

    moto gives every certificate the same id and a fixed 2012 expiry whatever the body says, so
    one certificate is uploaded and judged expired; the check's cases cover a valid one.
    """
    session = account_session(moto_endpoint, ACCOUNT)
    iam = session.client("iam", endpoint_url=moto_endpoint)
    body, key = _certificate("old", datetime.now(UTC) - timedelta(days=3))
    iam.upload_server_certificate(ServerCertificateName="old", CertificateBody=body, PrivateKey=key)
    return session


def test_server_certificates_round_trip_and_an_expired_one_fails(
    lake: Lake, moto_endpoint: str, session: boto3.Session
) -> None:
    ctx = AwsContext(session, endpoint_url=moto_endpoint, account_id=ACCOUNT)
    resources = [r for r in load_resources() if r.name == "iam.server_certificates"]
    report = sync_aws(lake, ctx, ["us-east-1"], resources=resources)
    assert not report.failed and not report.not_assessed
    rows = lake.query(
        "SELECT server_certificate_name AS name, arn, expiration FROM aws_iam_server_certificates "
        "WHERE account_id = ?",
        [ACCOUNT],
    )
    assert [(r["name"], r["arn"]) for r in rows] == [
        ("old", f"arn:aws:iam::{ACCOUNT}:server-certificate/old")
    ]
    assert rows[0]["expiration"] is not None
    found = run_check(lake, builtin_checks().get("iam_server_certificate_expired"))
    mine = {f.resource.name: f.status for f in found if f.resource.account_id == ACCOUNT}
    assert mine == {"old": Status.FAIL}
