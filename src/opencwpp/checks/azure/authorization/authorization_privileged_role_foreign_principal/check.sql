-- Built-in role GUIDs are the same in every tenant: Owner, Contributor, User Access
-- Administrator, Role Based Access Control Administrator.
WITH judged AS (
    SELECT
        r.*,
        lower(regexp_replace(COALESCE(r.properties->>'$.roleDefinitionId', ''), '^.*/', '')) IN (
            '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
            'b24988ac-6180-42a0-ab88-20f7382dd24c',
            '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
            'f58310d9-a9f6-439a-9e8d-f62e7b41a168'
        ) AS privileged,
        lower(COALESCE(r.properties->>'$.principalType', '')) = 'foreigngroup' AS foreign_principal
    FROM azure_authorization_role_assignments AS r
)
SELECT
    j.id AS resource_uid,
    j.name AS resource_name,
    j.subscription_id AS account_id,
    CAST(NULL AS VARCHAR) AS region,
    CASE WHEN j.privileged AND j.foreign_principal THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN j.privileged AND j.foreign_principal
             THEN 'A privileged role is assigned to a group of another tenant at ' || COALESCE(j.properties->>'$.scope', '?') || '.'
         WHEN j.foreign_principal
             THEN 'A group of another tenant holds a role that is not privileged.'
         WHEN j.privileged
             THEN 'A privileged role held by a ' || COALESCE(j.properties->>'$.principalType', 'principal') || ' of this tenant (guests: see authorization_privileged_role_guest_user).'
         ELSE 'Not a privileged role.'
    END AS detail
FROM judged AS j
