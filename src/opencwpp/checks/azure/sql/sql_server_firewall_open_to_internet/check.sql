WITH matched AS (
    SELECT
        s.id AS server_id,
        string_agg(DISTINCT f.name || ' (' || (f.properties->>'$.startIpAddress') || ' - '
            || (f.properties->>'$.endIpAddress') || ')', ', '
            ORDER BY f.name || ' (' || (f.properties->>'$.startIpAddress') || ' - '
            || (f.properties->>'$.endIpAddress') || ')') AS rules
    FROM azure_sql_servers AS s
    JOIN azure_sql_server_firewall_rules AS f
      ON substr(lower(f.id), 1, length(s.id) + 15) = lower(s.id) || '/firewallrules/'
    WHERE f.properties->>'$.startIpAddress' = '0.0.0.0'
      AND f.properties->>'$.endIpAddress' <> '0.0.0.0'
    GROUP BY s.id
)
SELECT
    s.id AS resource_uid,
    s.name AS resource_name,
    s.subscription_id AS account_id,
    s.location AS region,
    s.tags,
    CASE WHEN m.server_id IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN m.server_id IS NULL THEN 'No firewall rule opens the server to the internet from 0.0.0.0.'
         ELSE 'Firewall rule(s) open to the internet: ' || m.rules || '.'
    END AS detail
FROM azure_sql_servers AS s
LEFT JOIN matched AS m ON m.server_id = s.id
