SELECT
    v.id AS resource_uid,
    v.name AS resource_name,
    v.subscription_id AS account_id,
    v.location AS region,
    v.tags,
    CASE WHEN CAST(v.properties->>'$.enablePurgeProtection' AS BOOLEAN)
              AND CAST(v.properties->>'$.enableSoftDelete' AS BOOLEAN) IS DISTINCT FROM FALSE
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN CAST(v.properties->>'$.enableSoftDelete' AS BOOLEAN) IS NOT DISTINCT FROM FALSE
             THEN 'Soft delete is off: a deleted vault, key or secret is gone at once.'
         WHEN CAST(v.properties->>'$.enablePurgeProtection' AS BOOLEAN)
             THEN 'Soft delete and purge protection are on: deleted items stay recoverable.'
         ELSE 'Purge protection is off: a deleted vault or key can be purged before its retention ends.'
    END AS detail
FROM azure_keyvault_keyvaults AS v
