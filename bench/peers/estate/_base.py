"""What every part of the estate generator shares: clients, names, and the ground-truth ledger.

The generator only talks to an emulator on a loopback address with fake credentials; names are
prefixed per scale unit so that every resource is unique and identifiable in any tool's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from bench.peers.truth import GroundTruth, Resource

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
FOREIGN_ACCOUNT = "111122223333"  # a documentation account id, outside the estate
ADMIN_CIDR = "198.51.100.7/32"  # TEST-NET-2: one administrator's public address

# Every kind the estate plants, with the protection it belongs to.
KINDS: dict[str, str] = {
    # access control: who and what can reach a resource
    "s3_bucket_public_acl": "access-control",
    "s3_bucket_public_policy": "access-control",
    "s3_bucket_public_access_not_blocked": "access-control",
    "s3_account_public_access_not_blocked": "access-control",
    "sg_ssh_open_to_internet": "access-control",
    "sg_rdp_open_to_internet": "access-control",
    "sg_database_port_open_to_internet": "access-control",
    "sg_all_traffic_open_to_internet": "access-control",
    "default_sg_allows_traffic": "access-control",
    "nacl_admin_ports_open_to_internet": "access-control",
    "ec2_imdsv1_allowed": "access-control",
    "ec2_secrets_in_user_data": "access-control",
    "ebs_snapshot_public": "access-control",
    "rds_instance_public": "access-control",
    "rds_snapshot_public": "access-control",
    "iam_console_user_without_mfa": "access-control",
    "iam_user_with_admin_privileges": "access-control",
    "iam_policy_full_admin": "access-control",
    "iam_policy_privilege_escalation": "access-control",
    "iam_user_two_active_access_keys": "access-control",
    "iam_role_cross_account_trust_unconditioned": "access-control",
    "iam_weak_password_policy": "access-control",
    "kms_key_policy_public": "access-control",
    "lambda_secrets_in_environment": "access-control",
    "lambda_public_resource_policy": "access-control",
    "lambda_url_without_auth": "access-control",
    "sqs_queue_public_policy": "access-control",
    "sns_topic_public_policy": "access-control",
    "ecr_repository_public_policy": "access-control",
    "secret_rotation_disabled": "access-control",
    # data protection: encryption at rest and in transit, recoverability
    "s3_bucket_no_tls_enforcement": "data-encryption",
    "s3_bucket_versioning_disabled": "data-encryption",
    "ebs_volume_unencrypted": "data-encryption",
    "ebs_snapshot_unencrypted": "data-encryption",
    "ebs_default_encryption_off": "data-encryption",
    "rds_instance_unencrypted": "data-encryption",
    "rds_instance_no_backups": "data-encryption",
    "kms_key_rotation_disabled": "data-encryption",
    "sqs_queue_unencrypted": "data-encryption",
    "sns_topic_unencrypted": "data-encryption",
    "cloudtrail_trail_not_kms_encrypted": "data-encryption",
    "efs_unencrypted": "data-encryption",
    "dynamodb_table_no_pitr": "data-encryption",
    # threat detection: the logs and detectors an investigation needs
    "cloudtrail_trail_not_logging": "threat-detection",
    "cloudtrail_log_validation_disabled": "threat-detection",
    "vpc_flow_logs_disabled": "threat-detection",
    "guardduty_disabled": "threat-detection",
    "config_recorder_disabled": "threat-detection",
    "s3_bucket_access_logging_disabled": "threat-detection",
    # vulnerability: software that is out of date or not scanned
    "lambda_deprecated_runtime": "vulnerability",
    "ecr_scan_on_push_disabled": "vulnerability",
    "ecr_tags_mutable": "vulnerability",
    "rds_auto_minor_upgrade_disabled": "vulnerability",
}


def doc(*statements: dict[str, Any]) -> str:
    """A policy document (JSON text) from its statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@dataclass(slots=True)
class Estate:
    """The generator's working state: clients per (service, region) and the ground truth."""

    endpoint: str
    regions: tuple[str, ...]
    truth: GroundTruth
    flow_log_bucket: str = ""
    role_arns: dict[int, str] = field(default_factory=dict)
    key_arns: dict[int, str] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    @classmethod
    def open(cls, endpoint: str, regions: tuple[str, ...], scale: int) -> Estate:
        """Connects to the emulator (loopback only) and reads the account id."""
        host = urlsplit(endpoint).hostname or ""
        if host not in LOOPBACK:
            raise ValueError(f"the bench estate is only built in a local emulator, not {host!r}")
        estate = cls(endpoint, regions, GroundTruth(scale, "", regions))
        identity = estate.client("sts", regions[0]).get_caller_identity()
        estate.truth.account_id = str(identity["Account"])
        return estate

    @property
    def account(self) -> str:
        """The estate's account id."""
        return self.truth.account_id

    def client(self, service: str, region: str) -> Any:
        """A boto3 client for `service` in `region`, pointed at the emulator."""
        key = (service, region)
        if key not in self._clients:
            session = boto3.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name=region,
            )
            self._clients[key] = session.client(service, endpoint_url=self.endpoint)
        return self._clients[key]

    def region(self, unit: int, group: int) -> str:
        """The region of a unit's resource group: groups alternate so every region gets some."""
        return self.regions[(unit + group) % len(self.regions)]

    def made(self, count: int = 1) -> None:
        """Counts resources created (for the 'resources in the estate' figure)."""
        self.truth.resource_count += count

    def bad(self, kind: str, resource: Resource, why: str = "") -> None:
        """Records a planted defect of `kind` on `resource`."""
        self.truth.defect(kind, KINDS[kind], resource, why)

    def good(self, kind: str, resource: Resource, why: str = "") -> None:
        """Records a near-miss: `resource` resembles `kind` but is not one."""
        self.truth.near_miss(kind, KINDS[kind], resource, why)


def res(
    rtype: str, uid: str, name: str = "", region: str = "", *aliases: str, scope: str = "resource"
) -> Resource:
    """Shorthand for a ground-truth Resource."""
    return Resource(rtype, uid, name, region, tuple(a for a in aliases if a), scope)


def unit_prefix(unit: int) -> str:
    """The name prefix of one scale unit's resources (unique, short, DNS-safe)."""
    return f"pb{unit:02d}"
