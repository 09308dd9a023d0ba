-- Auditing per server is the view cwpp_azure_sql_server_auditing.
SELECT
    s.id AS resource_uid,
    s.name AS resource_name,
    s.subscription_id AS account_id,
    s.location AS region,
    s.tags,
    CASE WHEN COALESCE(a.enabled, 0) = 1 AND (a.retention_days = 0 OR a.retention_days > 90)
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN COALESCE(a.enabled, 0) = 0 THEN 'Server auditing is off: no audit logs are kept.'
         WHEN a.retention_days = 0 THEN 'Audit logs are kept without a time limit.'
         ELSE 'Audit logs are kept ' || CAST(a.retention_days AS VARCHAR) || ' days.'
    END AS detail
FROM azure_sql_servers AS s
LEFT JOIN cwpp_azure_sql_server_auditing AS a ON a.server_id = s.id
