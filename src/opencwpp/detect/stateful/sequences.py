"""Sequences: steps of one attack that are ordinary alone and telling together.

New admin user: `CreateUser` of a user, then within `WINDOW_HOURS` a credential for it
(`CreateAccessKey` or `CreateLoginProfile`) and administrative rights (`AttachUserPolicy`
with AdministratorAccess/IAMFullAccess, `PutUserPolicy` with `"Action": "*"`, or
`AddUserToGroup` into a group named like admin), all successful and in the same account.
The two later steps may come in either order (tools issue them in the same second).
"""

from __future__ import annotations

from opencwpp.detect.stateful.base import EVENTS, StatefulDetection

WINDOW_HOURS = 1

_IAM = (
    "SELECT event_id, event_time, event_name, COALESCE(recipient_account_id, '') AS acct, "
    "lower(json_extract_string(request_parameters, '$.userName')) AS target, "
    "json_extract_string(request_parameters, '$.policyArn') AS policy_arn, "
    "json_extract_string(request_parameters, '$.policyDocument') AS policy_doc, "
    "lower(json_extract_string(request_parameters, '$.groupName')) AS group_name "
    f"FROM {EVENTS} WHERE event_source = 'iam.amazonaws.com' AND error_code IS NULL "
    "AND event_name IN ('CreateUser', 'CreateAccessKey', 'CreateLoginProfile', "
    "'AttachUserPolicy', 'PutUserPolicy', 'AddUserToGroup')"
)
_ADMIN = (
    "(event_name = 'AttachUserPolicy' AND (policy_arn LIKE '%:policy/AdministratorAccess' "
    "ESCAPE '\\' OR policy_arn LIKE '%:policy/IAMFullAccess' ESCAPE '\\')) "
    "OR (event_name = 'PutUserPolicy' AND "
    'regexp_matches(policy_doc, \'"Action"\\s*:\\s*(\\[\\s*)?"\\*"\')) '
    "OR (event_name = 'AddUserToGroup' AND group_name LIKE '%admin%' ESCAPE '\\')"
)


def _after(step: str) -> str:
    return (
        f"{step}.target = c.target AND {step}.acct = c.acct "
        f"AND {step}.event_time >= c.event_time "
        f"AND {step}.event_time <= c.event_time + INTERVAL {WINDOW_HOURS} HOUR"
    )


# A CreateUser starts a chain when both later steps follow it in the window; every step of a
# chain is flagged. Semi-joins (EXISTS) rather than joining the three steps into chains: the
# same events, without the chains themselves (as many as creations x credentials x grants of
# one user name: 490,000 rows on 1,000,000 generated events, 2.5 times the CPU).
_SQL = (
    f"WITH iam AS ({_IAM}), "
    "created AS (SELECT * FROM iam WHERE event_name = 'CreateUser'), "
    "cred AS (SELECT * FROM iam WHERE event_name IN ('CreateAccessKey', 'CreateLoginProfile')), "
    f"adm AS (SELECT * FROM iam WHERE {_ADMIN}), "
    "starts AS (SELECT c.event_id, c.event_time, c.target, c.acct FROM created AS c "
    f"WHERE EXISTS (SELECT 1 FROM cred AS k WHERE {_after('k')}) "
    f"AND EXISTS (SELECT 1 FROM adm AS a WHERE {_after('a')})) "
    "SELECT event_id FROM starts "
    "UNION SELECT k.event_id FROM cred AS k "
    f"WHERE EXISTS (SELECT 1 FROM starts AS c WHERE {_after('k')}) "
    "UNION SELECT a.event_id FROM adm AS a "
    f"WHERE EXISTS (SELECT 1 FROM starts AS c WHERE {_after('a')})"
)

NEW_ADMIN_USER = StatefulDetection(
    id="sequence-new-admin-user",
    title="New IAM user given credentials and administrator rights",
    description=(
        f"A user was created, then within {WINDOW_HOURS} hour given an access key or console "
        "password and administrator rights: a persistent backdoor identity."
    ),
    level="high",
    tags=("attack.persistence", "attack.t1136.003", "attack.t1098.001", "attack.t1098.003"),
    sql=_SQL,
    falsepositives=("Break-glass or onboarding scripts of the platform team (allow-list them)",),
    references=(
        "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-admin-user/",
        "https://attack.mitre.org/techniques/T1136/003/",
    ),
)

DETECTIONS = (NEW_ADMIN_USER,)
