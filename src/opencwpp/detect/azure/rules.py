"""Detections over `cwpp_azure_activity_events`, each one SELECT of the record ids it flags.

SQL in DuckDB's dialect, transpiled for PostgreSQL like every check. Only successful records
count (resultType Success / Succeeded): a denied attempt is not the change itself. Bursts use
10-minute buckets in two series offset by 5 minutes, so a burst within 5 minutes always falls
whole into one bucket (as the CloudTrail bursts do).
"""

from __future__ import annotations

from dataclasses import dataclass

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


ROLE_ASSIGNMENT_HIGH_SCOPE = AzureDetection(
    id="azure-role-assignment-high-scope",
    title="Role assignment created at subscription, management group or root scope",
    description=(
        "A role assignment written at the scope of a whole subscription, a management group or "
        "the tenant root: the principal gains the role over everything below it."
    ),
    level="high",
    tags=("attack.privilege-escalation", "attack.persistence", "attack.t1098.003"),
    sql=_select(
        _op("Microsoft.Authorization/roleAssignments/write")
        + " AND (regexp_matches(lower(resource_id), "
        "'^/subscriptions/[^/]+/providers/microsoft[.]authorization/roleassignments/[^/]+$') "
        "OR regexp_matches(lower(resource_id), "
        "'^/providers/microsoft[.]authorization/roleassignments/[^/]+$') "
        "OR lower(resource_id) LIKE '/providers/microsoft.management/managementgroups/%' "
        "ESCAPE '\\')"
    ),
    falsepositives=("Onboarding of a new administrator or automation account (allow-list it)",),
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
    STORAGE_MADE_PUBLIC,
    STORAGE_KEYS_LISTED,
    SECRET_MASS_READS,
    DIAGNOSTIC_SETTINGS_DELETED,
    MASS_DELETES,
)
