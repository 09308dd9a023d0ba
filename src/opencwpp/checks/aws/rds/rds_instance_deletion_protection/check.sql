SELECT
    i.arn AS resource_uid,
    i.db_instance_identifier AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN i.deletion_protection THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN i.deletion_protection THEN 'Deletion protection is enabled.'
         ELSE 'Deletion protection is off: one DeleteDBInstance call removes the database.' END AS detail
FROM aws_rds_instances AS i
WHERE COALESCE(i.db_cluster_identifier, '') = ''
