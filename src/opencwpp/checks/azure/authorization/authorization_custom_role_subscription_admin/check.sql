-- Actions and assignable scopes are rows (split at load), one per item.
WITH everything AS (
    SELECT DISTINCT subscription_id, role_definition_id
    FROM cwpp_azure_role_definition_actions
    WHERE kind = 'Actions' AND action = '*'
),
wide AS (
    SELECT DISTINCT subscription_id, role_definition_id
    FROM cwpp_azure_role_definition_scopes
    WHERE assignable_scope = '/'
       OR lower(rtrim(assignable_scope, '/')) = '/subscriptions/' || lower(subscription_id)
)
SELECT
    d.id AS resource_uid,
    d.properties->>'$.roleName' AS resource_name,
    d.subscription_id AS account_id,
    CAST(NULL AS VARCHAR) AS region,
    CASE WHEN e.role_definition_id IS NOT NULL AND w.role_definition_id IS NOT NULL
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN e.role_definition_id IS NULL
             THEN 'The custom role does not allow every action.'
         WHEN w.role_definition_id IS NULL
             THEN 'The custom role allows every action, but only below the subscription (resource groups).'
         ELSE 'The custom role allows every action ("*") and is assignable over the whole subscription.'
    END AS detail
FROM azure_authorization_role_definitions AS d
LEFT JOIN everything AS e ON e.subscription_id = d.subscription_id AND e.role_definition_id = d.id
LEFT JOIN wide AS w ON w.subscription_id = d.subscription_id AND w.role_definition_id = d.id
WHERE d.properties->>'$.type' = 'CustomRole'
