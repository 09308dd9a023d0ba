-- A container belongs to the account whose id prefixes its own (…/blobServices/default/…).
SELECT
    c.id AS resource_uid,
    COALESCE(a.name || '/', '') || c.name AS resource_name,
    c.subscription_id AS account_id,
    a.location AS region,
    CASE WHEN lower(COALESCE(c.properties->>'$.publicAccess', 'None')) IN ('blob', 'container')
              AND CAST(a.properties->>'$.allowBlobPublicAccess' AS BOOLEAN) IS DISTINCT FROM FALSE
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN lower(COALESCE(c.properties->>'$.publicAccess', 'None')) NOT IN ('blob', 'container')
             THEN 'The container is private.'
         WHEN CAST(a.properties->>'$.allowBlobPublicAccess' AS BOOLEAN) IS NOT DISTINCT FROM FALSE
             THEN 'The container is set to ' || (c.properties->>'$.publicAccess')
                  || ' access, but its account disallows anonymous access, so nothing is public.'
         WHEN lower(c.properties->>'$.publicAccess') = 'container'
             THEN 'Anyone can list and read every blob in the container without credentials.'
         ELSE 'Anyone who knows a blob''s name can read it without credentials.'
    END AS detail
FROM azure_storage_containers AS c
LEFT JOIN azure_storage_accounts AS a
    ON lower(a.id) = regexp_replace(lower(c.id), '/blobservices/.*$', '')
