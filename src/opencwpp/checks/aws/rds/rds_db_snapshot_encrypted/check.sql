SELECT
    s.arn AS resource_uid,
    s.db_snapshot_identifier AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN s.encrypted THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.encrypted
             THEN 'The snapshot is encrypted with KMS key ' || COALESCE(NULLIF(s.kms_key_id, ''), '(not reported)') || '.'
         ELSE 'The ' || COALESCE(NULLIF(s.snapshot_type, ''), '') || ' snapshot of instance '
              || COALESCE(NULLIF(s.db_instance_identifier, ''), 'unknown') || ' is not encrypted at rest.' END AS detail
FROM aws_rds_db_snapshots AS s
