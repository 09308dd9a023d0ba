SELECT
    a.id AS resource_uid,
    a.name AS resource_name,
    a.subscription_id AS account_id,
    a.location AS region,
    a.tags,
    CASE WHEN lower(COALESCE(a.properties->>'$.encryption.keySource', 'Microsoft.Storage')) = 'microsoft.keyvault'
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN lower(COALESCE(a.properties->>'$.encryption.keySource', 'Microsoft.Storage')) = 'microsoft.keyvault'
             THEN 'Data at rest is encrypted with a customer-managed key from Key Vault.'
         ELSE 'Data at rest is encrypted with Microsoft-managed keys.'
    END AS detail
FROM azure_storage_accounts AS a
