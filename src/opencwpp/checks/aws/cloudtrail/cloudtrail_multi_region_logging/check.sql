WITH accounts AS (
    SELECT account_id FROM aws_iam_accounts WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_cloudtrail_trails WHERE account_id IS NOT NULL
),
trails AS (
    SELECT
        account_id,
        name,
        arn,
        COALESCE(is_multi_region_trail, FALSE) AS multi_region,
        COALESCE(CAST(status->>'$.IsLogging' AS BOOLEAN), FALSE) AS logging,
        COALESCE(is_organization_trail, FALSE) AS org_trail
    FROM aws_cloudtrail_trails
),
per_account AS (
    SELECT
        account_id,
        string_agg(name, ', ' ORDER BY name) FILTER (WHERE multi_region AND logging) AS good,
        string_agg(
            name || ' (' || CASE WHEN NOT multi_region AND NOT logging THEN 'single-region, not logging'
                                 WHEN NOT multi_region THEN 'single-region'
                                 ELSE 'not logging' END || ')',
            ', ' ORDER BY name
        ) FILTER (WHERE NOT (multi_region AND logging)) AS lacking
    FROM trails
    GROUP BY account_id
),
org_trails AS (
    -- Organization trails seen in the lake: they may cover member accounts that do not list them.
    SELECT string_agg(DISTINCT arn, ', ' ORDER BY arn) AS arns
    FROM trails
    WHERE org_trail AND multi_region AND logging
)
SELECT
    'arn:aws:iam::' || a.account_id || ':root' AS resource_uid,
    a.account_id AS resource_name,
    a.account_id,
    '' AS region,
    CASE WHEN p.good IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.good IS NOT NULL
             THEN 'Multi-region trail(s) logging: ' || p.good || '.'
         ELSE CASE WHEN p.lacking IS NOT NULL
                   THEN 'No trail is both multi-region and logging; trail(s): ' || p.lacking || '.'
                   ELSE 'The account has no CloudTrail trail.' END
              || CASE WHEN o.arns IS NOT NULL
                      THEN ' Organization trail(s) collected in another account may cover it if it is a member: ' || o.arns || '.'
                      ELSE '' END
    END AS detail
FROM accounts AS a
LEFT JOIN per_account AS p ON p.account_id = a.account_id
CROSS JOIN org_trails AS o
