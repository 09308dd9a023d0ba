SELECT
    a.id AS resource_uid,
    a.name AS resource_name,
    a.subscription_id AS account_id,
    a.location AS region,
    a.tags,
    CASE WHEN COALESCE(a.properties->>'$.publicNetworkAccess', 'Enabled') = 'Enabled'
              AND COALESCE(a.properties->>'$.networkAcls.defaultAction', 'Allow') = 'Allow'
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(a.properties->>'$.publicNetworkAccess', 'Enabled') <> 'Enabled'
             THEN 'Public network access is ' || (a.properties->>'$.publicNetworkAccess') || '.'
         WHEN COALESCE(a.properties->>'$.networkAcls.defaultAction', 'Allow') = 'Allow'
             THEN 'Public network access is enabled from all networks (firewall default action Allow).'
         ELSE 'Only selected networks can reach the account (firewall default action Deny).'
    END AS detail
FROM azure_storage_accounts AS a
