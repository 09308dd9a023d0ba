-- One row per (account, region) whose detectors were synced ok: regions never synced are not judged.
WITH scopes AS (
    SELECT DISTINCT account_id, region
    FROM cwpp_sync_scopes
    WHERE table_name = 'aws_guardduty_detectors' AND status = 'ok' AND region <> ''
),
per_region AS (
    SELECT
        request_account_id AS account_id,
        request_region AS region,
        string_agg(id, ', ' ORDER BY id) FILTER (WHERE upper(status) = 'ENABLED') AS enabled,
        string_agg(id || ' (' || COALESCE(status, 'unknown status') || ')', ', ' ORDER BY id)
            FILTER (WHERE upper(COALESCE(status, '')) <> 'ENABLED') AS other
    FROM aws_guardduty_detectors
    GROUP BY request_account_id, request_region
)
SELECT
    'arn:' || CASE WHEN s.region LIKE 'cn-%' ESCAPE '\' THEN 'aws-cn'
                   WHEN s.region LIKE 'us-gov-%' ESCAPE '\' THEN 'aws-us-gov'
                   ELSE 'aws' END
        || ':guardduty:' || s.region || ':' || s.account_id || ':regional-config/detector' AS resource_uid,
    'GuardDuty (' || s.region || ')' AS resource_name,
    s.account_id,
    s.region,
    CASE WHEN p.enabled IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.enabled IS NOT NULL
             THEN 'GuardDuty detector ' || p.enabled || ' is enabled in ' || s.region || '.'
         WHEN p.other IS NOT NULL
             THEN 'The GuardDuty detector in ' || s.region || ' is not enabled: ' || p.other || '.'
         ELSE 'GuardDuty has no detector in ' || s.region || '.' END AS detail
FROM scopes AS s
LEFT JOIN per_region AS p ON p.account_id = s.account_id AND p.region = s.region
