"""AWS Security Hub findings (ASFF 2018-10-08): the shape BatchImportFindings accepts.

Limits from the ASFF syntax are applied here (title 256, description 1024 characters, at most 32
related requirements, tag keys 128 and values 256 characters), so an import never fails on a
long resource name. The product ARN is the account's own `default` product, as Security Hub
requires for findings a customer imports.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from opencwpp.core.models import Finding, Pillar, Severity, Status
from opencwpp.report import text
from opencwpp.report.formats import Format
from opencwpp.report.formats._shared import TOOL_NAME, aws_partition, utc
from opencwpp.report.model import ReportData, sort_findings

SCHEMA_VERSION = "2018-10-08"
PLACEHOLDER_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
_ACCOUNT = re.compile(r"^\d{12}$")
_ASFF_TYPE = re.compile(r"^Aws[A-Za-z0-9]{2,}$")  # checks may already name the ASFF type
LABELS = {
    Severity.CRITICAL: "CRITICAL",
    Severity.HIGH: "HIGH",
    Severity.MEDIUM: "MEDIUM",
    Severity.LOW: "LOW",
    Severity.INFORMATIONAL: "INFORMATIONAL",
}
TYPES = {
    Pillar.VULNERABILITY: "Software and Configuration Checks/Vulnerabilities/CVE",
    Pillar.ACCESS: "Software and Configuration Checks/Industry and Regulatory Standards",
    Pillar.ENCRYPTION: "Software and Configuration Checks/Industry and Regulatory Standards",
    Pillar.THREAT: "TTPs",
}
# Lake table (CloudQuery name) -> Security Hub resource type; anything else is "Other".
RESOURCE_TYPES = {
    "aws_s3_buckets": "AwsS3Bucket",
    "aws_iam_users": "AwsIamUser",
    "aws_iam_roles": "AwsIamRole",
    "aws_iam_policies": "AwsIamPolicy",
    "aws_iam_groups": "AwsIamGroup",
    "aws_ec2_instances": "AwsEc2Instance",
    "aws_ec2_security_groups": "AwsEc2SecurityGroup",
    "aws_ec2_vpcs": "AwsEc2Vpc",
    "aws_ec2_ebs_volumes": "AwsEc2Volume",
    "aws_kms_keys": "AwsKmsKey",
    "aws_rds_instances": "AwsRdsDbInstance",
    "aws_dynamodb_tables": "AwsDynamoDbTable",
    "aws_lambda_functions": "AwsLambdaFunction",
    "aws_sns_topics": "AwsSnsTopic",
    "aws_sqs_queues": "AwsSqsQueue",
    "aws_secretsmanager_secrets": "AwsSecretsManagerSecret",
    "aws_ecr_repositories": "AwsEcrRepository",
    "aws_efs_filesystems": "AwsEfsFileSystem",
    "aws_cloudtrail_trails": "AwsCloudTrailTrail",
    "aws_elbv2_load_balancers": "AwsElbv2LoadBalancer",
}
_COMPLIANCE = {
    Status.FAIL: "FAILED",
    Status.PASS: "PASSED",
    Status.MUTED: "WARNING",
    Status.NOT_ASSESSED: "NOT_AVAILABLE",
}
_WORKFLOW = {
    Status.FAIL: "NEW",
    Status.PASS: "RESOLVED",
    Status.MUTED: "SUPPRESSED",
    Status.NOT_ASSESSED: "NEW",
}


def _cut(value: str, limit: int) -> str:
    return text.truncate(text.clean(value), limit) if value else value


def _timestamp(value: datetime) -> str:
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def product_arn(account_id: str, region: str) -> str:
    """The account's own product ARN, which BatchImportFindings requires for custom findings."""
    return f"arn:aws:securityhub:{region}:{account_id}:product/{account_id}/default"


def asff_finding(
    finding: Finding, now: datetime, account_id: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """One ASFF finding. `account_id`/`region` (the importing hub's) override the resource's."""
    res = finding.resource
    account = account_id or (
        res.account_id if _ACCOUNT.match(res.account_id) else PLACEHOLDER_ACCOUNT
    )
    hub_region = region or res.region or DEFAULT_REGION
    if hub_region == "global":
        hub_region = DEFAULT_REGION
    created = finding.first_seen or now
    updated = finding.last_seen or now
    resource: dict[str, Any] = {
        "Type": RESOURCE_TYPES.get(res.type)
        or (res.type if _ASFF_TYPE.match(res.type) else "Other"),
        "Id": _cut(res.uid, 512),
        "Partition": aws_partition(res.uid),
        "Region": res.region if res.region and res.region != "global" else hub_region,
    }
    if res.tags:
        resource["Tags"] = {_cut(k, 128): _cut(v, 256) for k, v in sorted(res.tags.items())[:50]}
    if res.name:
        resource["Details"] = {"Other": {"Name": _cut(res.name, 1024)}}
    description = finding.status_reason or finding.title
    out: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": f"{TOOL_NAME}/{finding.id}",
        "ProductArn": product_arn(account, hub_region),
        "ProductName": TOOL_NAME,
        "CompanyName": TOOL_NAME,
        "GeneratorId": f"{TOOL_NAME}/{finding.check_id}",
        "AwsAccountId": account,
        "Types": [TYPES[finding.pillar]],
        "CreatedAt": _timestamp(created),
        "UpdatedAt": _timestamp(max(utc(updated), utc(created))),
        "Severity": {"Label": LABELS[finding.severity], "Original": finding.severity.value},
        "Title": _cut(finding.title or finding.check_id, 256),
        "Description": _cut(description, 1024),
        "Resources": [resource],
        "Compliance": {"Status": _COMPLIANCE[finding.status]},
        "Workflow": {"Status": _WORKFLOW[finding.status]},
        "RecordState": "ARCHIVED" if finding.status is Status.PASS else "ACTIVE",
        "ProductFields": {
            "opencwpp/CheckId": finding.check_id,
            "opencwpp/Pillar": finding.pillar.value,
        },
    }
    refs = [f"{fw} {r}" for fw, reqs in sorted(finding.compliance.items()) for r in reqs]
    if refs:
        out["Compliance"]["RelatedRequirements"] = [_cut(r, 256) for r in refs[:32]]
    if finding.remediation:
        out["Remediation"] = {"Recommendation": {"Text": _cut(finding.remediation, 512)}}
    return out


def render(data: ReportData) -> str:
    """Renders `{"Findings": [...]}`, the BatchImportFindings request body, as JSON."""
    items = [asff_finding(f, data.generated_at) for f in sort_findings(data.findings)]
    return json.dumps({"Findings": items}, indent=2, ensure_ascii=False) + "\n"


FORMAT = Format(name="asff", extension="asff.json", media_type="application/json", render=render)
