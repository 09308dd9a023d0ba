WITH admins AS (
    SELECT s.id AS server_id, string_agg(DISTINCT COALESCE(a.properties->>'$.login', a.name), ', '
        ORDER BY COALESCE(a.properties->>'$.login', a.name)) AS logins
    FROM azure_sql_servers AS s
    JOIN azure_sql_server_admins AS a
      ON substr(lower(a.id), 1, length(s.id) + 16) = lower(s.id) || '/administrators/'
    WHERE a.properties->>'$.administratorType' = 'ActiveDirectory'
    GROUP BY s.id
)
SELECT
    s.id AS resource_uid,
    s.name AS resource_name,
    s.subscription_id AS account_id,
    s.location AS region,
    s.tags,
    CASE WHEN a.server_id IS NOT NULL
              OR s.properties->>'$.administrators.administratorType' = 'ActiveDirectory'
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN a.server_id IS NOT NULL THEN 'Entra ID administrator: ' || a.logins || '.'
         WHEN s.properties->>'$.administrators.administratorType' = 'ActiveDirectory'
             THEN 'Entra ID administrator: ' || COALESCE(s.properties->>'$.administrators.login', '?') || '.'
         ELSE 'No Microsoft Entra ID administrator is set.'
    END AS detail
FROM azure_sql_servers AS s
LEFT JOIN admins AS a ON a.server_id = s.id
