SELECT
    r.arn AS resource_uid,
    r.repository_name AS resource_name,
    r.account_id,
    r.region,
    r.tags,
    CASE WHEN upper(COALESCE(r.encryption_configuration->>'$.EncryptionType', '')) IN ('KMS', 'KMS_DSSE') THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN upper(COALESCE(r.encryption_configuration->>'$.EncryptionType', '')) IN ('KMS', 'KMS_DSSE')
             THEN 'Images are encrypted with ' || (r.encryption_configuration->>'$.EncryptionType') || ' using key '
                  || COALESCE(NULLIF(r.encryption_configuration->>'$.KmsKey', ''), 'alias/aws/ecr') || '.'
         ELSE 'Images are encrypted with ' || COALESCE(NULLIF(r.encryption_configuration->>'$.EncryptionType', ''), 'an unreported type (AES256 by default)')
              || ', not a KMS key.' END AS detail
FROM aws_ecr_repositories AS r
