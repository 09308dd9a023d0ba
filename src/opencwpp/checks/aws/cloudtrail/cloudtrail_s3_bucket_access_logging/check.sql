-- The buckets trails deliver to that are in the lake; a bucket outside the synced accounts
-- (an organization's log archive) is not judged here.
WITH trail_buckets AS (
    SELECT s3_bucket_name, string_agg(DISTINCT name, ', ' ORDER BY name) AS trails
    FROM aws_cloudtrail_trails
    WHERE COALESCE(s3_bucket_name, '') <> ''
    GROUP BY s3_bucket_name
),
targets AS (
    SELECT bucket_arn, min(logging_enabled->>'$.TargetBucket') AS target_bucket
    FROM aws_s3_bucket_loggings
    WHERE COALESCE(logging_enabled->>'$.TargetBucket', '') <> ''
    GROUP BY bucket_arn
)
SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN l.bucket_arn IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN l.bucket_arn IS NULL
             THEN 'Server access logging is off on the bucket holding the logs of trail(s) ' || t.trails || ': who read or deleted them is not recorded.'
         ELSE 'Access to the logs of trail(s) ' || t.trails || ' is logged to bucket ' || l.target_bucket || '.'
    END AS detail
FROM trail_buckets AS t
JOIN aws_s3_buckets AS b ON b.name = t.s3_bucket_name
LEFT JOIN targets AS l ON l.bucket_arn = b.arn
