"""Sharing outside the organization: data and access handed to accounts we do not know.

Definition. A successful call that grants another account (or everyone) a copy or a use of a
resource: an EBS snapshot's createVolumePermission or an AMI's launchPermission gaining a user
id or the group `all`, an RDS (cluster) snapshot's `restore` attribute gaining an account or
`all`, an IAM role trust policy (CreateRole, UpdateAssumeRolePolicy) naming an account's
principal or `*`. A grant is *outside* when it is public, or when it names an account that is
neither the event's own account nor one the lake knows: the Organization's accounts
(`aws_organizations_accounts`) and the accounts synced into the lake (`cwpp_sync_scopes`).
When the lake knows no account at all (nothing was collected), only public grants are
flagged: an unknown account cannot be told from a sibling one.

The inventory enters through the view `cwpp_known_accounts` (`detect.inventory`).
"""

from __future__ import annotations

from opencwpp.detect.inventory import KNOWN_ACCOUNTS
from opencwpp.detect.stateful.base import EVENTS, StatefulDetection

_EVENTS = (
    "ModifySnapshotAttribute",
    "ModifyImageAttribute",
    "ModifyDBSnapshotAttribute",
    "ModifyDBClusterSnapshotAttribute",
    "CreateRole",
    "UpdateAssumeRolePolicy",
)
# Grantees of EC2's add lists: `{"items": [{"userId": "…"}, {"group": "all"}]}`.
_EC2_GRANTEE = r'"(?:userId|group)"\s*:\s*"([^"]*)"'
# Principals of a trust policy: account ARNs, a bare account id or `*` as the AWS principal,
# and `"Principal": "*"`. (Federated and service principals are not accounts.)
_ROLE_ARN_ACCOUNT = r"arn:aws[a-z-]*:(?:iam|sts)::([0-9]{12}):"
_ROLE_BARE = r'"AWS"\s*:\s*\[?\s*"([0-9]{12}|\*)"'
_ROLE_ANYONE = r'"Principal"\s*:\s*"(\*)"'


def _grants(event: str, text: str, pattern: str, extra: str = "") -> str:
    return (
        f"SELECT e.event_id, e.own, lower(g.grantee) AS grantee FROM ev AS e, "
        f"unnest(regexp_extract_all({text}, '{pattern}', 1)) AS g(grantee) "
        f"WHERE e.event_name = '{event}'{extra}"
    )


# UpdateAssumeRolePolicy sends `policyDocument`, CreateRole `assumeRolePolicyDocument`.
_POLICY = (
    "COALESCE(json_extract_string(e.rp, '$.policyDocument'), "
    "json_extract_string(e.rp, '$.assumeRolePolicyDocument'), '')"
)
_SQL = (
    "WITH ev AS (SELECT event_id, event_name, COALESCE(recipient_account_id, '') AS own, "
    f"request_parameters AS rp FROM {EVENTS} WHERE error_code IS NULL "
    "AND event_name IN (" + ", ".join(f"'{e}'" for e in _EVENTS) + ")), "
    "grants AS ("
    + " UNION ALL ".join(
        [
            _grants(
                "ModifySnapshotAttribute",
                "COALESCE(CAST(json_extract(e.rp, '$.createVolumePermission.add') AS VARCHAR), '')",
                _EC2_GRANTEE,
            ),
            _grants(
                "ModifyImageAttribute",
                "COALESCE(CAST(json_extract(e.rp, '$.launchPermission.add') AS VARCHAR), '')",
                _EC2_GRANTEE,
            ),
            *(
                _grants(
                    name,
                    "COALESCE(CAST(json_extract(e.rp, '$.valuesToAdd') AS VARCHAR), '')",
                    '"([^"]*)"',
                    " AND lower(json_extract_string(e.rp, '$.attributeName')) = 'restore'",
                )
                for name in ("ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute")
            ),
            *(
                _grants(name, _POLICY, pattern)
                for name in ("CreateRole", "UpdateAssumeRolePolicy")
                for pattern in (_ROLE_ARN_ACCOUNT, _ROLE_BARE, _ROLE_ANYONE)
            ),
        ]
    )
    + ") "
    "SELECT DISTINCT event_id FROM grants WHERE grantee IN ('all', '*') "
    "OR (regexp_matches(grantee, '^[0-9]{12}$') AND grantee <> own "
    f"AND EXISTS (SELECT 1 FROM {KNOWN_ACCOUNTS}) "
    f"AND grantee NOT IN (SELECT account_id FROM {KNOWN_ACCOUNTS} "
    "WHERE account_id IS NOT NULL))"
)


SHARED_OUTSIDE = StatefulDetection(
    id="shared-outside-organization",
    title="Resource shared publicly or with an account outside the organization",
    description=(
        "A snapshot, image or database snapshot was shared, or a role's trust policy opened, to "
        "everyone or to an account that is neither in the Organization nor synced into the "
        "lake: data or access handed to an outsider, the exfiltration and persistence step of "
        "many cloud attacks."
    ),
    level="critical",
    tags=(
        "attack.exfiltration",
        "attack.t1537",
        "attack.persistence",
        "attack.t1098.003",
    ),
    sql=_SQL,
    falsepositives=(
        "Sharing with a partner or vendor account on purpose (allow-list who does it)",
        "Accounts of the Organization when the Organization's accounts were not collected",
    ),
    references=(
        "https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.ec2-share-ebs-snapshot/",
        "https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.rds-share-snapshot/",
        "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-role/",
        "https://attack.mitre.org/techniques/T1537/",
    ),
)

DETECTIONS = (SHARED_OUTSIDE,)
