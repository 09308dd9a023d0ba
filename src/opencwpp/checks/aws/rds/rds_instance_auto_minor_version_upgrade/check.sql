SELECT
    i.arn AS resource_uid,
    i.db_instance_identifier AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN i.auto_minor_version_upgrade THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN i.auto_minor_version_upgrade
             THEN 'Minor version upgrades are applied automatically (' || COALESCE(NULLIF(i.engine, ''), '?') || ' ' || COALESCE(NULLIF(i.engine_version, ''), '?') || ').'
         ELSE 'Automatic minor version upgrades are off (' || COALESCE(NULLIF(i.engine, ''), '?') || ' ' || COALESCE(NULLIF(i.engine_version, ''), '?') || ').' END AS detail
FROM aws_rds_instances AS i
