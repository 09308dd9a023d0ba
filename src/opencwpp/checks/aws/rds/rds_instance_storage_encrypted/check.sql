SELECT
    i.arn AS resource_uid,
    i.db_instance_identifier AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN i.storage_encrypted THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN i.storage_encrypted
             THEN 'Storage is encrypted with KMS key ' || COALESCE(NULLIF(i.kms_key_id, ''), '(not reported)') || '.'
         ELSE 'Storage of this ' || COALESCE(NULLIF(i.engine, ''), 'database') || ' instance is not encrypted at rest.' END AS detail
FROM aws_rds_instances AS i
