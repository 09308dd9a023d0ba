SELECT
    s.id AS resource_uid,
    s.name AS resource_name,
    s.subscription_id AS account_id,
    s.location AS region,
    s.tags,
    CASE WHEN COALESCE(s.properties->>'$.minimalTlsVersion', 'None') IN ('None', '1.0', '1.1')
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(s.properties->>'$.minimalTlsVersion', 'None') = 'None'
             THEN 'No minimum TLS version is set: every TLS version is accepted.'
         ELSE 'Minimum TLS version ' || (s.properties->>'$.minimalTlsVersion') || '.'
    END AS detail
FROM azure_sql_servers AS s
