SELECT
    a.id AS resource_uid,
    a.name AS resource_name,
    a.subscription_id AS account_id,
    a.location AS region,
    a.tags,
    CASE WHEN CAST(a.properties->>'$.allowSharedKeyAccess' AS BOOLEAN) IS DISTINCT FROM FALSE
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN CAST(a.properties->>'$.allowSharedKeyAccess' AS BOOLEAN) IS NOT DISTINCT FROM FALSE
             THEN 'Shared key authorization is disabled: only Entra ID (and user delegation SAS) works.'
         WHEN a.properties->>'$.allowSharedKeyAccess' IS NULL
             THEN 'allowSharedKeyAccess is not set, so the account keys and SAS tokens signed with them work.'
         ELSE 'Shared key authorization is allowed: the account keys and SAS tokens signed with them work.'
    END AS detail
FROM azure_storage_accounts AS a
