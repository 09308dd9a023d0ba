SELECT
    c.arn AS resource_uid,
    c.db_cluster_identifier AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN c.storage_encrypted THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN c.storage_encrypted
             THEN 'Cluster storage is encrypted with KMS key ' || COALESCE(NULLIF(c.kms_key_id, ''), '(not reported)') || '.'
         ELSE 'Storage of this ' || COALESCE(NULLIF(c.engine, ''), 'database') || ' cluster is not encrypted at rest.' END AS detail
FROM aws_rds_clusters AS c
