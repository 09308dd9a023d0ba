-- What each trail's selectors record is the view cwpp_aws_cloudtrail_management_coverage.
WITH accounts AS (
    SELECT account_id FROM aws_iam_accounts WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_cloudtrail_trails WHERE account_id IS NOT NULL
),
trails AS (
    SELECT
        t.account_id,
        t.name,
        COALESCE(CAST(t.status->>'$.IsLogging' AS BOOLEAN), FALSE) AS logging,
        COALESCE(c.reads, 0) = 1 AS reads,
        COALESCE(c.writes, 0) = 1 AS writes,
        COALESCE(c.partial, 0) = 1 AS partial
    FROM aws_cloudtrail_trails AS t
    LEFT JOIN cwpp_aws_cloudtrail_management_coverage AS c ON c.trail_arn = t.arn
),
per_account AS (
    SELECT
        account_id,
        string_agg(name, ', ' ORDER BY name) FILTER (WHERE logging AND reads AND writes) AS good,
        string_agg(
            name || ' (' || CASE WHEN NOT logging THEN 'not logging'
                                 WHEN reads THEN 'read-only management events'
                                 WHEN writes THEN 'write-only management events'
                                 WHEN partial THEN 'management events narrowed by other fields'
                                 ELSE 'no management events' END || ')',
            ', ' ORDER BY name
        ) FILTER (WHERE NOT (logging AND reads AND writes)) AS lacking
    FROM trails
    GROUP BY account_id
)
SELECT
    'arn:aws:iam::' || a.account_id || ':root' AS resource_uid,
    a.account_id AS resource_name,
    a.account_id,
    '' AS region,
    CASE WHEN p.good IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.good IS NOT NULL
             THEN 'Logging trail(s) recording read and write management events: ' || p.good || '.'
         WHEN p.lacking IS NOT NULL
             THEN 'No logging trail records both read and write management events; trail(s): ' || p.lacking || '.'
         ELSE 'The account has no CloudTrail trail.'
    END AS detail
FROM accounts AS a
LEFT JOIN per_account AS p ON p.account_id = a.account_id
