-- One row per (account, region) whose recorders were synced ok: regions never synced are not judged.
WITH scopes AS (
    SELECT DISTINCT account_id, region
    FROM cwpp_sync_scopes
    WHERE table_name = 'aws_config_configuration_recorders' AND status = 'ok' AND region <> ''
),
judged AS (
    SELECT
        r.account_id,
        r.region,
        r.name,
        COALESCE(r.status_recording, FALSE) AS recording,
        COALESCE(CAST(r.recording_group->>'$.AllSupported' AS BOOLEAN), FALSE) AS all_supported,
        upper(COALESCE(r.status_last_status, '')) = 'FAILURE' AS failed
    FROM aws_config_configuration_recorders AS r
),
per_region AS (
    SELECT
        account_id,
        region,
        string_agg(name, ', ' ORDER BY name) FILTER (WHERE recording AND all_supported AND NOT failed) AS good,
        string_agg(
            name || ' (' || CASE WHEN NOT recording THEN 'not recording'
                                 WHEN NOT all_supported THEN 'records only selected resource types'
                                 ELSE 'last recording attempt failed' END || ')',
            ', ' ORDER BY name
        ) FILTER (WHERE NOT (recording AND all_supported AND NOT failed)) AS bad
    FROM judged
    GROUP BY account_id, region
)
SELECT
    'arn:' || CASE WHEN s.region LIKE 'cn-%' ESCAPE '\' THEN 'aws-cn'
                   WHEN s.region LIKE 'us-gov-%' ESCAPE '\' THEN 'aws-us-gov'
                   ELSE 'aws' END
        || ':config:' || s.region || ':' || s.account_id || ':regional-config/recording' AS resource_uid,
    'AWS Config recording (' || s.region || ')' AS resource_name,
    s.account_id,
    s.region,
    CASE WHEN p.good IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.good IS NOT NULL
             THEN 'Configuration recorder ' || p.good || ' records all supported resource types in ' || s.region || '.'
         WHEN p.bad IS NOT NULL
             THEN 'No recorder records all resource types in ' || s.region || ': ' || p.bad || '.'
         ELSE 'AWS Config has no configuration recorder in ' || s.region || '.' END AS detail
FROM scopes AS s
LEFT JOIN per_region AS p ON p.account_id = s.account_id AND p.region = s.region
