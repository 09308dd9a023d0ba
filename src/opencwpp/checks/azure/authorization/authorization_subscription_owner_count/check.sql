-- Owner is the built-in role 8e3af657-a8ff-443c-a75c-2fe8c4bcb635 in every tenant. An
-- assignment covers the whole subscription at its own scope, a management group's or the root's.
WITH owners AS (
    SELECT
        r.subscription_id,
        count(DISTINCT r.properties->>'$.principalId') AS owners
    FROM azure_authorization_role_assignments AS r
    WHERE lower(r.properties->>'$.roleDefinitionId') LIKE '%/8e3af657-a8ff-443c-a75c-2fe8c4bcb635' ESCAPE '\'
      AND (
          lower(r.properties->>'$.scope') = '/subscriptions/' || lower(r.subscription_id)
          OR r.properties->>'$.scope' = '/'
          OR lower(r.properties->>'$.scope') LIKE '/providers/microsoft.management/managementgroups/%' ESCAPE '\'
      )
    GROUP BY r.subscription_id
)
SELECT
    s.id AS resource_uid,
    s.display_name AS resource_name,
    s.subscription_id AS account_id,
    CAST(NULL AS VARCHAR) AS region,
    s.tags,
    CASE WHEN COALESCE(o.owners, 0) > 3 THEN 'FAIL' ELSE 'PASS' END AS status,
    CAST(COALESCE(o.owners, 0) AS VARCHAR)
        || ' principal(s) hold Owner over the whole subscription (at most 3 recommended).' AS detail
FROM azure_subscription_subscriptions AS s
LEFT JOIN owners AS o ON o.subscription_id = s.subscription_id
