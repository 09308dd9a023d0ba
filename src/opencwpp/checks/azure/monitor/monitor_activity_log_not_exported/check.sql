WITH settings AS (
    SELECT subscription_id, count(*) AS n, string_agg(DISTINCT name, ', ' ORDER BY name) AS names
    FROM azure_monitor_subscription_diagnostic_settings
    GROUP BY subscription_id
)
SELECT
    s.id AS resource_uid,
    s.display_name AS resource_name,
    s.subscription_id AS account_id,
    CAST(NULL AS VARCHAR) AS region,
    s.tags,
    CASE WHEN COALESCE(d.n, 0) = 0 THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(d.n, 0) = 0 THEN 'The Activity Log is not exported by any diagnostic setting.'
         ELSE 'Activity Log diagnostic setting(s): ' || d.names || '.'
    END AS detail
FROM azure_subscription_subscriptions AS s
LEFT JOIN settings AS d ON d.subscription_id = s.subscription_id
