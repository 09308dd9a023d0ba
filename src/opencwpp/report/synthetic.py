"""Synthetic findings for benchmarks and dashboard demos: realistic shape, deterministic content.

Nothing here reads a cloud or the lake; `synthetic_findings(50_000)` is what the report
benchmark renders. Every tenth resource carries a hostile tag, so escaping is exercised at scale.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status

HOSTILE_TAG = "<img src=x onerror=alert(1)>"
_CHECKS = [
    (
        "s3_bucket_public_acl",
        "S3 bucket grants public access",
        Pillar.ACCESS,
        Severity.CRITICAL,
        "aws_s3_buckets",
        {"cis-aws-3.0": ["2.1.4"], "nist-800-53": ["AC-3"]},
    ),
    (
        "s3_bucket_default_encryption",
        "S3 bucket has no default encryption",
        Pillar.ENCRYPTION,
        Severity.MEDIUM,
        "aws_s3_buckets",
        {"cis-aws-3.0": ["2.1.1"], "nist-800-53": ["SC-28"]},
    ),
    (
        "iam_user_console_mfa",
        "IAM user with console access has no MFA",
        Pillar.ACCESS,
        Severity.HIGH,
        "aws_iam_users",
        {"cis-aws-3.0": ["1.10"], "nist-800-53": ["IA-2"]},
    ),
    (
        "iam_access_key_rotated_90_days",
        "Access key older than 90 days",
        Pillar.ACCESS,
        Severity.MEDIUM,
        "aws_iam_users",
        {"cis-aws-3.0": ["1.14"]},
    ),
    (
        "kms_key_rotation",
        "KMS key rotation is disabled",
        Pillar.ENCRYPTION,
        Severity.MEDIUM,
        "aws_kms_keys",
        {"cis-aws-3.0": ["3.6"], "nist-800-53": ["SC-12"]},
    ),
    (
        "ebs_volume_encrypted",
        "EBS volume is not encrypted",
        Pillar.ENCRYPTION,
        Severity.HIGH,
        "aws_ec2_ebs_volumes",
        {"nist-800-53": ["SC-28"]},
    ),
    (
        "ec2_security_group_open_ssh",
        "Security group opens SSH to the internet",
        Pillar.ACCESS,
        Severity.HIGH,
        "aws_ec2_security_groups",
        {"cis-aws-3.0": ["5.2"]},
    ),
    (
        "rds_instance_public",
        "RDS instance is publicly accessible",
        Pillar.ACCESS,
        Severity.CRITICAL,
        "aws_rds_instances",
        {"nist-800-53": ["AC-3", "SC-7"]},
    ),
    (
        "GHSA-0000-synthetic",
        "GHSA-0000-synthetic in openssl 3.0.1",
        Pillar.VULNERABILITY,
        Severity.HIGH,
        "container_image",
        {},
    ),
    (
        "sigma_cloudtrail_stop_logging",
        "CloudTrail logging stopped",
        Pillar.THREAT,
        Severity.HIGH,
        "cloudtrail_identity",
        {},
    ),
]
_REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
_ACCOUNTS = ["111111111111", "222222222222", "333333333333"]


def _uid(check: str, table: str, account: str, region: str, i: int) -> str:
    if table == "aws_s3_buckets":
        return f"arn:aws:s3:::bucket-{i:06d}"
    if table == "aws_iam_users" or table == "cloudtrail_identity":
        return f"arn:aws:iam::{account}:user/user-{i:06d}"
    if table == "container_image":
        return f"image:registry.example/app-{i % 200}@sha256:{i:064x}"
    service = table.split("_")[1]
    return f"arn:aws:{service}:{region}:{account}:{check[:8]}/{i:06d}"


def synthetic_findings(count: int, seed: int = 7, now: datetime | None = None) -> list[Finding]:
    """`count` findings over ten checks, three accounts and four regions (about 60% failing)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    now = now or datetime(2025, 6, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        check, title, pillar, severity, table, compliance = _CHECKS[i % len(_CHECKS)]
        account, region = _ACCOUNTS[i % 3], _REGIONS[(i // 3) % 4]
        roll = rng.random()
        status = (
            Status.FAIL
            if roll < 0.6
            else Status.PASS
            if roll < 0.92
            else Status.MUTED
            if roll < 0.97
            else Status.NOT_ASSESSED
        )
        tags = {"env": rng.choice(["prod", "dev", "staging"]), "team": f"team-{i % 17}"}
        if i % 10 == 0:
            tags["owner"] = HOSTILE_TAG
        out.append(
            Finding(
                check_id=check,
                title=title,
                pillar=pillar,
                severity=severity,
                status=status,
                resource=ResourceRef(
                    _uid(check, table, account, region, i // len(_CHECKS)),
                    table,
                    account,
                    region,
                    f"resource-{i:06d}",
                    tags,
                ),
                status_reason=f"{title.lower()} (synthetic finding {i})",
                evidence={"n": i},
                remediation="Fix the configuration.",
                compliance=compliance,
                mitre_attack=("T1562.008",) if pillar is Pillar.THREAT else (),
                first_seen=now - timedelta(days=rng.randint(1, 90)),
                last_seen=now - timedelta(hours=rng.randint(0, 48)),
            )
        )
    return out
