-- One row per (account, region) whose hub state was synced ok: regions never synced are not judged.
WITH scopes AS (
    SELECT DISTINCT account_id, region
    FROM cwpp_sync_scopes
    WHERE table_name = 'aws_securityhub_hubs' AND status = 'ok' AND region <> ''
),
hubs AS (
    SELECT account_id, region, min(subscribed_at) AS subscribed_at, min(hub_arn) AS hub_arn
    FROM aws_securityhub_hubs
    GROUP BY account_id, region
)
SELECT
    'arn:' || CASE WHEN s.region LIKE 'cn-%' ESCAPE '\' THEN 'aws-cn'
                   WHEN s.region LIKE 'us-gov-%' ESCAPE '\' THEN 'aws-us-gov'
                   ELSE 'aws' END
        || ':securityhub:' || s.region || ':' || s.account_id || ':hub/default' AS resource_uid,
    'Security Hub (' || s.region || ')' AS resource_name,
    s.account_id,
    s.region,
    CASE WHEN h.account_id IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN h.account_id IS NOT NULL
             THEN 'Security Hub is enabled in ' || s.region
                  || COALESCE(' since ' || CAST(CAST(h.subscribed_at AS DATE) AS VARCHAR), '') || '.'
         ELSE 'Security Hub is not enabled in ' || s.region || '.' END AS detail
FROM scopes AS s
LEFT JOIN hubs AS h ON h.account_id = s.account_id AND h.region = s.region
