WITH rules AS (
    SELECT
        r.bucket_arn,
        string_agg(DISTINCT r.apply_server_side_encryption_by_default->>'$.SSEAlgorithm', ', ' ORDER BY r.apply_server_side_encryption_by_default->>'$.SSEAlgorithm') AS algorithms
    FROM aws_s3_bucket_encryption_rules AS r
    WHERE COALESCE(r.apply_server_side_encryption_by_default->>'$.SSEAlgorithm', '') <> ''
    GROUP BY r.bucket_arn
)
SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN r.bucket_arn IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN r.bucket_arn IS NULL
         THEN 'No default encryption rule was recorded for the bucket, so objects uploaded without encryption headers may be stored unencrypted.'
         ELSE 'Default encryption is set with ' || r.algorithms || '.' END AS detail
FROM aws_s3_buckets AS b
LEFT JOIN rules AS r ON r.bucket_arn = b.arn
