SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN v.status = 'Enabled' AND v.mfa_delete = 'Enabled' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN v.status = 'Enabled' AND v.mfa_delete = 'Enabled'
             THEN 'Versioning and MFA Delete are enabled.'
         WHEN COALESCE(v.status, '') <> 'Enabled'
             THEN 'Versioning is ' || COALESCE(NULLIF(v.status, ''), 'not enabled') || ', so MFA Delete does not protect the bucket''s objects.'
         ELSE 'Versioning is enabled but MFA Delete is ' || COALESCE(NULLIF(v.mfa_delete, ''), 'not enabled') || '.' END AS detail
FROM aws_s3_buckets AS b
LEFT JOIN aws_s3_bucket_versionings AS v ON v.bucket_arn = b.arn
