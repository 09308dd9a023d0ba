SELECT
    i.arn AS resource_uid,
    i.db_instance_identifier AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN COALESCE(i.backup_retention_period, 0) > 0 THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN COALESCE(i.backup_retention_period, 0) > 0
             THEN 'Automated backups are kept for ' || CAST(i.backup_retention_period AS VARCHAR) || ' day(s).'
         WHEN i.backup_retention_period IS NULL THEN 'The backup retention period was not reported, so automated backups cannot be shown to be on.'
         ELSE 'Automated backups are disabled (retention period 0): no point-in-time restore.' END AS detail
FROM aws_rds_instances AS i
WHERE COALESCE(i.db_cluster_identifier, '') = ''
  AND COALESCE(i.read_replica_source_db_instance_identifier, '') = ''
  AND COALESCE(i.read_replica_source_db_cluster_identifier, '') = ''
