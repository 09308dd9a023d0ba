WITH targets AS (
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
    CASE WHEN t.bucket_arn IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN t.bucket_arn IS NULL THEN 'Server access logging is not enabled for the bucket.'
         ELSE 'Server access logs are delivered to bucket ' || t.target_bucket || '.' END AS detail
FROM aws_s3_buckets AS b
LEFT JOIN targets AS t ON t.bucket_arn = b.arn
