SELECT
    c.arn AS resource_uid,
    c.db_cluster_identifier AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN c.deletion_protection THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN c.deletion_protection THEN 'Deletion protection is enabled on the cluster.'
         ELSE 'Deletion protection is off: one DeleteDBCluster call removes the cluster.' END AS detail
FROM aws_rds_clusters AS c
