SELECT
    arn AS resource_uid,
    db_cluster_identifier AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN publicly_accessible THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN publicly_accessible
             THEN 'The DB cluster is publicly accessible: its endpoints resolve to public IP addresses.'
         WHEN publicly_accessible IS NULL
             THEN 'The cluster has no cluster-level PubliclyAccessible setting (Aurora keeps it on each instance, judged by rds_instance_publicly_accessible).'
         ELSE 'The DB cluster is not publicly accessible.'
    END AS detail
FROM aws_rds_clusters
