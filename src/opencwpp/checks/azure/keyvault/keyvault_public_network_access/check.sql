SELECT
    v.id AS resource_uid,
    v.name AS resource_name,
    v.subscription_id AS account_id,
    v.location AS region,
    v.tags,
    CASE WHEN COALESCE(v.properties->>'$.publicNetworkAccess', 'Enabled') <> 'Disabled'
              AND COALESCE(v.properties->>'$.networkAcls.defaultAction', 'Allow') = 'Allow'
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(v.properties->>'$.publicNetworkAccess', 'Enabled') = 'Disabled'
             THEN 'Public network access is disabled.'
         WHEN COALESCE(v.properties->>'$.networkAcls.defaultAction', 'Allow') = 'Allow'
             THEN 'The vault accepts requests from all networks.'
         ELSE 'Only selected networks can reach the vault (firewall default action Deny).'
    END AS detail
FROM azure_keyvault_keyvaults AS v
