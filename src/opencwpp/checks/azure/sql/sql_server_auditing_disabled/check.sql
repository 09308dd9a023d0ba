WITH auditing AS (
    SELECT
        s.id AS server_id,
        max(CASE WHEN a.properties->>'$.state' = 'Enabled' THEN 1 ELSE 0 END) AS enabled,
        max(COALESCE(CAST(a.properties->>'$.retentionDays' AS INTEGER), 0)) AS retention_days
    FROM azure_sql_servers AS s
    JOIN azure_sql_server_blob_auditing_policies AS a
      ON substr(lower(a.id), 1, length(s.id) + 1) = lower(s.id) || '/'
    GROUP BY s.id
)
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
LEFT JOIN auditing AS a ON a.server_id = s.id
