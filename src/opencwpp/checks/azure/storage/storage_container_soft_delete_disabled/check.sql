-- The account's Blob service (…/blobServices/default) carries the setting.
SELECT
    a.id AS resource_uid,
    a.name AS resource_name,
    a.subscription_id AS account_id,
    a.location AS region,
    a.tags,
    CASE WHEN CAST(b.properties->>'$.containerDeleteRetentionPolicy.enabled' AS BOOLEAN)
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN CAST(b.properties->>'$.containerDeleteRetentionPolicy.enabled' AS BOOLEAN)
             THEN 'Deleted containers are kept for ' || COALESCE(b.properties->>'$.containerDeleteRetentionPolicy.days', '?') || ' days.'
         ELSE 'Container soft delete is off: a deleted container and all its blobs cannot be recovered.'
    END AS detail
FROM azure_storage_accounts AS a
JOIN azure_storage_blob_services AS b
    ON regexp_replace(lower(b.id), '/blobservices/.*$', '') = lower(a.id)
