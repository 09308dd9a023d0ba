"""EC2 instance-role credentials used away from their instance.

Definition. An *instance session* event is one whose caller is an assumed-role session named
after an EC2 instance id (`arn:aws:sts::<account>:assumed-role/<role>/i-<hex>`): the
credentials the instance metadata service hands to the instance. Such an event is flagged when
it was made from a literal IP address (not an AWS service name, not through a VPC endpoint) and
either
- the same address is used, within a day before or after, by a principal that is not an
  instance session (an IAM user, root, a human's role session …): the instance's keys are being
  used from where people and their tools work; or
- the same instance's credentials call from more than one address, and this is not the
  address of its first call: an instance calls AWS from one address (its public or NAT IP).
Events of a flagged identity that read S3 objects make the second detection (data read with
the stolen credentials, ATT&CK T1530), which is how the OTRF "cloud bank breach" ends.
"""

from __future__ import annotations

from opencwpp.detect.stateful.base import EVENTS, INSTANCE_ARN_RE, StatefulDetection, is_ip

HUMAN_TYPES = ("IAMUser", "Root", "AssumedRole", "FederatedUser", "IdentityCenterUser", "SAMLUser")

_FLAGGED = (
    "WITH inst AS (SELECT event_id, event_time, user_identity_arn AS arn, "
    f"source_ip_address AS ip FROM {EVENTS} "
    "WHERE user_identity_type = 'AssumedRole' "
    f"AND regexp_matches(user_identity_arn, '{INSTANCE_ARN_RE}') "
    f"AND {is_ip('source_ip_address')} AND vpc_endpoint_id IS NULL), "
    f"people AS (SELECT source_ip_address AS ip, event_time FROM {EVENTS} "
    "WHERE user_identity_type IN (" + ", ".join(f"'{t}'" for t in HUMAN_TYPES) + ") "
    "AND source_ip_address IS NOT NULL "
    f"AND NOT COALESCE(regexp_matches(user_identity_arn, '{INSTANCE_ARN_RE}'), FALSE)), "
    "home AS (SELECT arn, ip FROM (SELECT arn, ip, "
    "row_number() OVER (PARTITION BY arn ORDER BY event_time, event_id) AS rn FROM inst) AS f "
    "WHERE rn = 1) "
    "SELECT inst.event_id FROM inst WHERE EXISTS (SELECT 1 FROM people WHERE "
    "people.ip = inst.ip AND people.event_time >= inst.event_time - INTERVAL 1 DAY "
    "AND people.event_time <= inst.event_time + INTERVAL 1 DAY) "
    "OR EXISTS (SELECT 1 FROM home WHERE home.arn = inst.arn AND home.ip <> inst.ip)"
)

OFF_INSTANCE = StatefulDetection(
    id="instance-credentials-used-off-instance",
    title="EC2 instance credentials used from outside their instance",
    description=(
        "Credentials of an EC2 instance role were used from an address also used by people, or "
        "from a second address besides the instance's own: they were taken from the instance "
        "(metadata service, SSRF, a compromised host) and are being used elsewhere."
    ),
    level="high",
    tags=(
        "attack.credential-access",
        "attack.t1552.005",
        "attack.initial-access",
        "attack.t1078.004",
    ),
    sql=_FLAGGED,
    falsepositives=(
        "Instances whose public address changed (stop/start without an Elastic IP)",
        "Administrators testing an instance role from their workstation",
    ),
    references=(
        "https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.ec2-steal-instance-credentials/",
        "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html",
        "https://attack.mitre.org/techniques/T1552/005/",
    ),
)

S3_READ_EVENTS = ("GetObject", "ListObjects", "ListObjectsV2", "ListBuckets", "CopyObject")

DATA_READ = StatefulDetection(
    id="instance-credentials-s3-data-read",
    title="S3 data read with EC2 instance credentials used outside their instance",
    description=(
        "S3 buckets were listed or objects read with instance-role credentials that the "
        "detection above saw used away from their instance: data collection after credential "
        "theft."
    ),
    level="critical",
    tags=("attack.collection", "attack.t1530", "attack.exfiltration"),
    sql=(
        f"SELECT event_id FROM {EVENTS} WHERE event_source = 's3.amazonaws.com' "
        "AND event_name IN (" + ", ".join(f"'{n}'" for n in S3_READ_EVENTS) + ") "
        f"AND event_id IN (SELECT event_id FROM ({_FLAGGED}) AS off_instance)"
    ),
    falsepositives=OFF_INSTANCE.falsepositives,
    references=(
        "https://github.com/RhinoSecurityLabs/cloudgoat/tree/master/cloudgoat/scenarios/aws/cloud_breach_s3",
        "https://attack.mitre.org/techniques/T1530/",
    ),
)

DETECTIONS = (OFF_INSTANCE, DATA_READ)
