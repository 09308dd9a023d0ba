SELECT
    t.arn AS resource_uid,
    t.name AS resource_name,
    t.account_id,
    t.region,
    t.tags,
    CASE WHEN trim(COALESCE(t.kms_key_id, '')) <> '' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN trim(COALESCE(t.kms_key_id, '')) <> '' THEN 'Log files are encrypted with KMS key ' || t.kms_key_id || '.'
         ELSE 'Log files delivered to bucket ' || COALESCE(NULLIF(t.s3_bucket_name, ''), '(unknown)') || ' are encrypted with SSE-S3 only, not a KMS key.' END AS detail
FROM aws_cloudtrail_trails AS t
