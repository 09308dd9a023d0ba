WITH rules AS (
    SELECT
        r.bucket_arn,
        string_agg(DISTINCT r.apply_server_side_encryption_by_default->>'$.SSEAlgorithm', ', ' ORDER BY r.apply_server_side_encryption_by_default->>'$.SSEAlgorithm') AS algorithms,
        bool_or(r.apply_server_side_encryption_by_default->>'$.SSEAlgorithm' IN ('aws:kms', 'aws:kms:dsse')) AS kms
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
    CASE WHEN COALESCE(r.kms, FALSE) THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN r.bucket_arn IS NULL
         THEN 'No default encryption rule was recorded for the bucket, so it is not encrypted with AWS KMS by default.'
         WHEN r.kms THEN 'Default encryption uses AWS KMS (' || r.algorithms || ').'
         ELSE 'Default encryption uses ' || r.algorithms || ' (S3-managed keys), not AWS KMS.' END AS detail
FROM aws_s3_buckets AS b
LEFT JOIN rules AS r ON r.bucket_arn = b.arn
