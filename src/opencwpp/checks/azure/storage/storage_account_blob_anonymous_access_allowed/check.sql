-- allowBlobPublicAccess: true allows anonymous access, false forbids it for every container;
-- not set (null) on older accounts leaves it to each container, so only an explicit false passes.
SELECT
    a.id AS resource_uid,
    a.name AS resource_name,
    a.subscription_id AS account_id,
    a.location AS region,
    a.tags,
    CASE WHEN CAST(a.properties->>'$.allowBlobPublicAccess' AS BOOLEAN) IS DISTINCT FROM FALSE
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN CAST(a.properties->>'$.allowBlobPublicAccess' AS BOOLEAN)
             THEN 'Anonymous blob access is allowed: any container set to Blob or Container access is public.'
         WHEN a.properties->>'$.allowBlobPublicAccess' IS NULL
             THEN 'allowBlobPublicAccess is not set, so each container''s access level decides whether it is public.'
         ELSE 'Anonymous blob access is disallowed for the whole account.'
    END AS detail
FROM azure_storage_accounts AS a
