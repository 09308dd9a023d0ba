-- Per SQL server, whether any of its blob auditing policies is enabled and the longest retention
-- (days; 0 = kept without a time limit). A server with no policy returned has no row.
SELECT
    s.id AS server_id,
    max(CASE WHEN a.properties->>'$.state' = 'Enabled' THEN 1 ELSE 0 END) AS enabled,
    max(COALESCE(CAST(a.properties->>'$.retentionDays' AS INTEGER), 0)) AS retention_days
FROM azure_sql_servers AS s
JOIN azure_sql_server_blob_auditing_policies AS a
  ON substr(lower(a.id), 1, length(s.id) + 1) = lower(s.id) || '/'
GROUP BY s.id
