WITH clusters AS (
    SELECT
        c.*,
        CASE WHEN c.engine IN ('aurora-mysql', 'mysql') THEN 'require_secure_transport' ELSE 'rds.force_ssl' END AS ssl_parameter
    FROM aws_rds_clusters AS c
    WHERE c.engine IN ('aurora-postgresql', 'aurora-mysql', 'postgres', 'mysql')
),
settings AS (
    SELECT p.cluster_parameter_group_arn, p.parameter_name, lower(COALESCE(p.parameter_value, '')) AS value
    FROM aws_rds_cluster_parameter_group_parameters AS p
    WHERE p.parameter_name IN ('rds.force_ssl', 'require_secure_transport')
)
SELECT
    c.arn AS resource_uid,
    c.db_cluster_identifier AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN s.value IN ('1', 'on', 'true') THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.value IN ('1', 'on', 'true')
             THEN 'Cluster parameter group ' || g.db_cluster_parameter_group_name || ' requires TLS (' || c.ssl_parameter || ' = ' || s.value || ').'
         WHEN COALESCE(s.value, '') = ''
             THEN 'Cluster parameter group ' || g.db_cluster_parameter_group_name || ' does not set ' || c.ssl_parameter || ': clear-text connections are accepted.'
         ELSE 'Cluster parameter group ' || g.db_cluster_parameter_group_name || ' accepts clear-text connections (' || c.ssl_parameter || ' = ' || s.value || ').'
    END AS detail
FROM clusters AS c
JOIN aws_rds_cluster_parameter_groups AS g
    ON g.account_id = c.account_id AND g.region = c.region
   AND g.db_cluster_parameter_group_name = c.db_cluster_parameter_group
LEFT JOIN settings AS s ON s.cluster_parameter_group_arn = g.arn AND s.parameter_name = c.ssl_parameter
