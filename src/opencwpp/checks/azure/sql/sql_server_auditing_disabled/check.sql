-- Auditing per server is the view cwpp_azure_sql_server_auditing.
SELECT
    s.id AS resource_uid,
    s.name AS resource_name,
    s.subscription_id AS account_id,
    s.location AS region,
    s.tags,
    CASE WHEN COALESCE(a.enabled, 0) = 1 THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN a.server_id IS NULL THEN 'No auditing policy was returned for the server.'
         WHEN a.enabled = 1 THEN 'Server auditing is enabled.'
         ELSE 'Server auditing is disabled.'
    END AS detail
FROM azure_sql_servers AS s
LEFT JOIN cwpp_azure_sql_server_auditing AS a ON a.server_id = s.id
