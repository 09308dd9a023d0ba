SELECT
    s.arn AS resource_uid,
    s.db_cluster_snapshot_identifier AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN s.storage_encrypted THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.storage_encrypted
             THEN 'The cluster snapshot is encrypted with KMS key ' || COALESCE(NULLIF(s.kms_key_id, ''), '(not reported)') || '.'
         ELSE 'The ' || COALESCE(NULLIF(s.snapshot_type, ''), '') || ' snapshot of cluster '
              || COALESCE(NULLIF(s.db_cluster_identifier, ''), 'unknown') || ' is not encrypted at rest.' END AS detail
FROM aws_rds_cluster_snapshots AS s
