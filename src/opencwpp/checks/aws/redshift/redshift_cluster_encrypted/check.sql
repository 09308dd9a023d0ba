SELECT
    arn AS resource_uid,
    cluster_identifier AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN encrypted THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN encrypted THEN 'The cluster is encrypted at rest with KMS key ' || COALESCE(NULLIF(kms_key_id, ''), '(not reported)') || '.'
         ELSE 'The cluster and its snapshots are not encrypted at rest.'
    END AS detail
FROM aws_redshift_clusters
