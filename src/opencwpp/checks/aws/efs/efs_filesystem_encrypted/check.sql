SELECT
    f.arn AS resource_uid,
    COALESCE(NULLIF(f.name, ''), f.file_system_id) AS resource_name,
    f.account_id,
    f.region,
    f.tags,
    CASE WHEN f.encrypted THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN f.encrypted
             THEN 'The file system is encrypted with KMS key ' || COALESCE(NULLIF(f.kms_key_id, ''), '(not reported)') || '.'
         ELSE 'The file system is not encrypted at rest.' END AS detail
FROM aws_efs_filesystems AS f
