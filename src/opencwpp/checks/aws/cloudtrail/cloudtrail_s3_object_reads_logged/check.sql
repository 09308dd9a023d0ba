-- Which trails record S3 object-level reads for every bucket is judged once, in the shared view.
WITH accounts AS (
    SELECT account_id FROM aws_iam_accounts WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_cloudtrail_trails WHERE account_id IS NOT NULL
),
per_account AS (
    SELECT
        account_id,
        string_agg(trail_name, ', ' ORDER BY trail_name) FILTER (WHERE logging AND s3_reads) AS good,
        string_agg(trail_name, ', ' ORDER BY trail_name) AS trails
    FROM cwpp_aws_cloudtrail_s3_data_coverage
    GROUP BY account_id
)
SELECT
    'arn:aws:iam::' || a.account_id || ':root' AS resource_uid,
    a.account_id AS resource_name,
    a.account_id,
    '' AS region,
    CASE WHEN p.good IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.good IS NOT NULL
             THEN 'Logging trail(s) recording S3 object-level reads for all buckets: ' || p.good || '.'
         WHEN p.trails IS NOT NULL
             THEN 'No logging trail records S3 object-level reads for all buckets; trail(s): ' || p.trails || '.'
         ELSE 'The account has no CloudTrail trail.'
    END AS detail
FROM accounts AS a
LEFT JOIN per_account AS p ON p.account_id = a.account_id
