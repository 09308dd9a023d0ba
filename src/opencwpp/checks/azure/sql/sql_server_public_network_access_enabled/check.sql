SELECT
    s.id AS resource_uid,
    s.name AS resource_name,
    s.subscription_id AS account_id,
    s.location AS region,
    s.tags,
    CASE WHEN COALESCE(s.properties->>'$.publicNetworkAccess', 'Enabled') = 'Enabled'
         THEN 'FAIL' ELSE 'PASS' END AS status,
    'Public network access is ' || COALESCE(s.properties->>'$.publicNetworkAccess', 'not set (enabled)') || '.' AS detail
FROM azure_sql_servers AS s
