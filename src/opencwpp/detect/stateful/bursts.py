"""Bursts: one identity doing many of something in ten minutes.

Windows are 10-minute buckets in two series offset by 5 minutes (see `base.burst_sql`).
- AccessDenied storm: ≥ 20 denied calls (an attacker probing what stolen keys may do).
- Enumeration: read calls (List*/Describe*/Get*) to ≥ 10 different services (recon tools).
- Mass secret reads: ≥ 5 different secrets or decrypted parameter sets (GetSecretValue,
  BatchGetSecretValue, SSM GetParameter(s)/ByPath with decryption); rereading one secret is
  what applications do and does not count.
- Mass S3 deletes: ≥ 50 DeleteObject(s) calls (ransom or destruction).
"""

from __future__ import annotations

from opencwpp.detect.engine import IDENTITY_SQL
from opencwpp.detect.stateful.base import StatefulDetection, burst_sql

DENIED_THRESHOLD = 20
SERVICES_THRESHOLD = 10
SECRETS_THRESHOLD = 5
DELETES_THRESHOLD = 50

_DENIED = (
    "(lower(error_code) LIKE '%accessdenied%' ESCAPE '\\' "
    "OR lower(error_code) LIKE '%unauthorizedoperation%' ESCAPE '\\' "
    "OR lower(error_code) LIKE '%unauthorizedaccess%' ESCAPE '\\')"
)
_READ = (
    "(event_name LIKE 'List%' ESCAPE '\\' OR event_name LIKE 'Describe%' ESCAPE '\\' "
    "OR event_name LIKE 'Get%' ESCAPE '\\')"
)
_CREDENTIAL_READ = (
    "((event_source = 'secretsmanager.amazonaws.com' "
    "AND event_name IN ('GetSecretValue', 'BatchGetSecretValue')) "
    "OR (event_source = 'ssm.amazonaws.com' "
    "AND event_name IN ('GetParameter', 'GetParameters', 'GetParametersByPath') "
    "AND lower(json_extract_string(request_parameters, '$.withDecryption')) = 'true'))"
)
_READ_TARGET = (
    "COALESCE(json_extract_string(request_parameters, '$.secretId'), "
    "json_extract_string(request_parameters, '$.name'), "
    "json_extract_string(request_parameters, '$.names'), "
    "json_extract_string(request_parameters, '$.path'), event_id)"
)

ACCESS_DENIED_STORM = StatefulDetection(
    id="burst-access-denied",
    title="Storm of access-denied errors by one identity",
    description=(
        f"{DENIED_THRESHOLD} or more calls denied within ten minutes: someone is probing what "
        "a set of credentials may do (enumerate-iam, Pacu, a stolen key)."
    ),
    level="medium",
    tags=("attack.discovery", "attack.t1580", "attack.t1087.004"),
    sql=burst_sql(_DENIED, "event_id", DENIED_THRESHOLD, IDENTITY_SQL),
    falsepositives=("A misconfigured application retrying a forbidden call",),
    references=("https://attack.mitre.org/techniques/T1580/",),
)

ENUMERATION = StatefulDetection(
    id="burst-service-enumeration",
    title="Enumeration across many AWS services by one identity",
    description=(
        f"Read calls to {SERVICES_THRESHOLD} or more different services within ten minutes: "
        "the footprint of reconnaissance tools listing everything a key can see."
    ),
    level="medium",
    tags=("attack.discovery", "attack.t1580", "attack.t1526"),
    sql=burst_sql(_READ, "event_source", SERVICES_THRESHOLD, IDENTITY_SQL),
    falsepositives=("Security scanners and inventory tools (allow-list their roles)",),
    references=("https://attack.mitre.org/techniques/T1526/",),
)

MASS_SECRET_READS = StatefulDetection(
    id="burst-secret-reads",
    title="Many different secrets or decrypted parameters read by one identity",
    description=(
        f"{SECRETS_THRESHOLD} or more different Secrets Manager secrets or decrypted SSM "
        "parameter sets read within ten minutes: credential harvesting."
    ),
    level="high",
    tags=("attack.credential-access", "attack.t1555.006", "attack.t1552"),
    sql=burst_sql(_CREDENTIAL_READ, _READ_TARGET, SECRETS_THRESHOLD, IDENTITY_SQL),
    falsepositives=("Deployment tooling that renders many secrets into configuration",),
    references=(
        "https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.secretsmanager-retrieve-secrets/",
        "https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.ssm-retrieve-securestring-parameters/",
    ),
)

MASS_OBJECT_DELETES = StatefulDetection(
    id="burst-s3-object-deletes",
    title="Mass S3 object deletion by one identity",
    description=(
        f"{DELETES_THRESHOLD} or more S3 DeleteObject/DeleteObjects calls within ten minutes: "
        "data destruction or the last step of a ransom attack."
    ),
    level="high",
    tags=("attack.impact", "attack.t1485"),
    sql=burst_sql(
        "event_source = 's3.amazonaws.com' AND event_name IN ('DeleteObject', 'DeleteObjects')",
        "event_id",
        DELETES_THRESHOLD,
        IDENTITY_SQL,
    ),
    falsepositives=("Lifecycle cleanups run by a job role (allow-list it)",),
    references=("https://attack.mitre.org/techniques/T1485/",),
)

DETECTIONS = (ACCESS_DENIED_STORM, ENUMERATION, MASS_SECRET_READS, MASS_OBJECT_DELETES)
