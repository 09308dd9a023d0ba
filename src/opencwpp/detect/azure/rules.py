"""Detections over `cwpp_azure_activity_events`, each one SELECT of the record ids it flags.

SQL in DuckDB's dialect, transpiled for PostgreSQL like every check. Inventory they join with
is a temporary view (`opencwpp.detect.azure.inventory`), empty when it was not collected. Only
successful records count (resultType Success / Succeeded): a denied attempt is not the change
itself. Bursts use 10-minute buckets in two series offset by 5 minutes, so a burst within 5
minutes always falls whole into one bucket (as the CloudTrail bursts do).
"""

from __future__ import annotations

from dataclasses import dataclass

from opencwpp.detect.azure.inventory import KNOWN_ROLE_ASSIGNMENTS
from opencwpp.detect.stateful.base import burst_sql

EVENTS = "cwpp_azure_activity_events"
WHO = "COALESCE(NULLIF(caller, ''), 'unknown')"
OK = "lower(COALESCE(result_type, '')) IN ('success', 'succeeded')"
SECRETS_THRESHOLD = 5
DELETES_THRESHOLD = 10


@dataclass(frozen=True, slots=True)
class AzureDetection:
    """One detection: metadata and the SQL returning the `record_id`s it flags."""

    id: str
    title: str
    description: str
    level: str
    tags: tuple[str, ...]
    sql: str
    falsepositives: tuple[str, ...] = ()

    @property
    def check_id(self) -> str:
        """The findings' check id (`stateful:` like the other SQL detections)."""
        return f"stateful:{self.id}"

    @property
    def mitre_attack(self) -> tuple[str, ...]:
        """ATT&CK technique ids from the tags."""
        return tuple(t.split(".", 1)[1].upper() for t in self.tags if t.startswith("attack.t"))


def _op(name: str) -> str:
    return f"lower(operation_name) = '{name.lower()}'"


def _burst(where: str, distinct: str, threshold: int) -> str:
    """Records matching `where` in a bucket where one caller reached `threshold` values."""
    return burst_sql(where, distinct, threshold, WHO, table=EVENTS, id_column="record_id")


def _select(where: str) -> str:
    return f"SELECT record_id FROM {EVENTS} WHERE {OK} AND {where}"


def _high_scope(column: str) -> str:
    """`column` (a lower-case role assignment id) sits at subscription, management group or root."""
    return (
        f"(regexp_matches({column}, "
        "'^/subscriptions/[^/]+/providers/microsoft[.]authorization/roleassignments/[^/]+$') "
        f"OR regexp_matches({column}, "
        "'^/providers/microsoft[.]authorization/roleassignments/[^/]+$') "
        f"OR {column} LIKE '/providers/microsoft.management/managementgroups/%' ESCAPE '\\')"
    )


ROLE_ASSIGNMENT_WRITE = "microsoft.authorization/roleassignments/write"
# Lowered to medium: routine onboarding fires it too. The strong signal is the new-principal
# refinement below (high); this one stays as the audit trail of every high-scope grant.
ROLE_ASSIGNMENT_HIGH_SCOPE = AzureDetection(
    id="azure-role-assignment-high-scope",
    title="Role assignment created at subscription, management group or root scope",
    description=(
        "A role assignment written at the scope of a whole subscription, a management group or "
        "the tenant root: the principal gains the role over everything below it."
    ),
    level="medium",
    tags=("attack.privilege-escalation", "attack.persistence", "attack.t1098.003"),
    sql=_select(_op(ROLE_ASSIGNMENT_WRITE) + " AND " + _high_scope("lower(resource_id)")),
    falsepositives=("Onboarding of a new administrator or automation account (allow-list it)",),
)

_GUID = "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'"
# The principal of a role assignment write: the request body (on the Start record, sometimes
# on the Success one) or the response body (Success). Bodies are text that may not be JSON, so
# the id is cut out of it (the string after "principalId"), then checked to be a GUID.
_NEW_PRINCIPAL_SQL = f"""
WITH writes AS (
    SELECT
        record_id,
        event_time,
        lower(resource_id) AS rid,
        COALESCE(correlation_id, record_id) AS operation,
        {OK} AS succeeded,
        split_part(split_part(lower(COALESCE(request_body, '')), '"principalid"', 2), '"', 2)
            AS from_request,
        split_part(split_part(lower(COALESCE(properties->>'$.responseBody', '')),
            '"principalid"', 2), '"', 2) AS from_response
    FROM {EVENTS}
    WHERE {_op(ROLE_ASSIGNMENT_WRITE)} AND resource_id IS NOT NULL
),
principals AS (
    SELECT operation, rid, min(principal_id) AS principal_id
    FROM (
        SELECT operation, rid, from_request AS principal_id FROM writes
        UNION ALL
        SELECT operation, rid, from_response AS principal_id FROM writes
    ) AS bodies
    WHERE regexp_matches(principal_id, {_GUID})
    GROUP BY operation, rid
),
assigned AS (
    SELECT w.record_id, w.event_time, w.rid, p.principal_id
    FROM writes AS w
    JOIN principals AS p ON p.operation = w.operation AND p.rid = w.rid
    WHERE w.succeeded
)
SELECT a.record_id
FROM assigned AS a
WHERE {_high_scope("a.rid")}
  AND NOT EXISTS (
      SELECT 1 FROM assigned AS e
      WHERE e.principal_id = a.principal_id AND e.event_time < a.event_time
  )
  AND NOT EXISTS (
      SELECT 1 FROM {KNOWN_ROLE_ASSIGNMENTS} AS k
      WHERE k.principal_id = a.principal_id
        AND k.assignment_name <> regexp_replace(a.rid, '^.*/', '')
        AND (k.created_on IS NULL
             OR k.created_on < strftime(a.event_time, '%Y-%m-%d %H:%M:%S'))
  )
"""

ROLE_ASSIGNMENT_NEW_PRINCIPAL = AzureDetection(
    id="azure-role-assignment-new-principal",
    title="Role assignment at high scope to a principal that held no role before",
    description=(
        "A successful role assignment at subscription, management group or root scope whose "
        "principal had no earlier role assignment: none in the synced inventory (other than "
        "this one, or created after it) and none in an earlier successful role assignment "
        "write of the ingested Activity Log. A fresh identity made powerful at once is how "
        "attackers plant a backdoor account."
    ),
    level="high",
    tags=("attack.privilege-escalation", "attack.persistence", "attack.t1098.003"),
    sql=_NEW_PRINCIPAL_SQL.strip(),
    falsepositives=(
        "A new administrator, pipeline or managed identity onboarded straight at subscription "
        "scope (sync the inventory and ingest older logs to give the detection history)",
    ),
)

STORAGE_MADE_PUBLIC = AzureDetection(
    id="azure-storage-made-public",
    title="Storage account or blob container opened to anonymous access",
    description=(
        "A storage account written with allowBlobPublicAccess true, or a container written "
        "with public access Blob or Container: its data becomes readable without credentials."
    ),
    level="high",
    tags=("attack.collection", "attack.exfiltration", "attack.t1530"),
    sql=_select(
        "(("
        + _op("Microsoft.Storage/storageAccounts/write")
        + " AND regexp_matches(lower(COALESCE(request_body, '')), "
        "'\"allowblobpublicaccess\"\\s*:\\s*true')) OR ("
        + _op("Microsoft.Storage/storageAccounts/blobServices/containers/write")
        + " AND regexp_matches(lower(COALESCE(request_body, '')), "
        '\'"publicaccess"\\s*:\\s*"(blob|container)"\')))'
    ),
    falsepositives=("A static website or public download container made public on purpose",),
)

STORAGE_KEYS_LISTED = AzureDetection(
    id="azure-storage-keys-listed",
    title="Storage account access keys listed",
    description=(
        "listKeys returns the account keys, which read and write every blob, file, queue and "
        "table of the account and bypass Entra ID: the first step of many storage breaches."
    ),
    level="medium",
    tags=("attack.credential-access", "attack.t1552"),
    sql=_select(_op("Microsoft.Storage/storageAccounts/listKeys/action")),
    falsepositives=("The portal's Access keys blade; deployment tools that fetch a key",),
)

SECRET_MASS_READS = AzureDetection(
    id="azure-keyvault-secret-mass-reads",
    title="Many different Key Vault secrets read by one caller",
    description=(
        f"SecretGet on {SECRETS_THRESHOLD} or more different secrets within ten minutes (Key "
        "Vault AuditEvent logs): credential harvesting. Rereading one secret does not count."
    ),
    level="high",
    tags=("attack.credential-access", "attack.t1555.006"),
    sql=_burst(
        f"{OK} AND lower(operation_name) = 'secretget'",
        "split_part(lower(COALESCE(properties->>'$.id', resource_id, '')), '/', 3) || '/' || "
        "split_part(lower(COALESCE(properties->>'$.id', resource_id, '')), '/', 5)",
        SECRETS_THRESHOLD,
    ),
    falsepositives=("Deployment tooling that renders many secrets into configuration",),
)

DIAGNOSTIC_SETTINGS_DELETED = AzureDetection(
    id="azure-diagnostic-settings-deleted",
    title="Diagnostic setting deleted",
    description=(
        "Deleting a diagnostic setting stops exporting the Activity Log or a resource's logs: "
        "attackers do it before acting, to stay unseen."
    ),
    level="high",
    tags=("attack.defense-evasion", "attack.t1562.008"),
    sql=_select(_op("Microsoft.Insights/diagnosticSettings/delete")),
    falsepositives=("Logging migrated to a new workspace by its owners",),
)

MASS_DELETES = AzureDetection(
    id="azure-mass-deletes",
    title="Mass deletion of Azure resources by one caller",
    description=(
        f"{DELETES_THRESHOLD} or more different resources deleted within ten minutes: data "
        "destruction or the last step of a ransom attack."
    ),
    level="high",
    tags=("attack.impact", "attack.t1485"),
    sql=_burst(
        f"{OK} AND lower(operation_name) LIKE '%/delete' ESCAPE '\\'",
        "lower(COALESCE(resource_id, record_id))",
        DELETES_THRESHOLD,
    ),
    falsepositives=("Tearing down a test environment (allow-list its pipeline identity)",),
)

DETECTIONS = (
    ROLE_ASSIGNMENT_HIGH_SCOPE,
    ROLE_ASSIGNMENT_NEW_PRINCIPAL,
    STORAGE_MADE_PUBLIC,
    STORAGE_KEYS_LISTED,
    SECRET_MASS_READS,
    DIAGNOSTIC_SETTINGS_DELETED,
    MASS_DELETES,
)
