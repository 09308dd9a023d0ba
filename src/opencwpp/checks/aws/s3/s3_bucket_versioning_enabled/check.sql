SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN v.status = 'Enabled' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN v.status = 'Enabled' THEN 'Versioning is enabled.'
         WHEN v.status = 'Suspended' THEN 'Versioning is suspended: new overwrites and deletes are not versioned.'
         ELSE 'Versioning has never been enabled.' END AS detail
FROM aws_s3_buckets AS b
LEFT JOIN aws_s3_bucket_versionings AS v ON v.bucket_arn = b.arn
