-- An instance has exactly one DB parameter group (the API's list has one element).
WITH instances AS (
    SELECT
        i.*,
        i.db_parameter_groups->>'$[0].DBParameterGroupName' AS group_name,
        CASE WHEN i.engine IN ('mysql', 'mariadb') THEN 'require_secure_transport' ELSE 'rds.force_ssl' END AS ssl_parameter
    FROM aws_rds_instances AS i
    WHERE i.engine IN ('postgres', 'mysql', 'mariadb') OR i.engine LIKE 'sqlserver%' ESCAPE '\'
),
settings AS (
    SELECT p.db_parameter_group_arn, p.parameter_name, lower(COALESCE(p.parameter_value, '')) AS value
    FROM aws_rds_db_parameter_group_db_parameters AS p
    WHERE p.parameter_name IN ('rds.force_ssl', 'require_secure_transport')
)
SELECT
    i.arn AS resource_uid,
    i.db_instance_identifier AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN s.value IN ('1', 'on', 'true') THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.value IN ('1', 'on', 'true')
             THEN 'Parameter group ' || g.db_parameter_group_name || ' requires TLS (' || i.ssl_parameter || ' = ' || s.value || ').'
         WHEN COALESCE(s.value, '') = ''
             THEN 'Parameter group ' || g.db_parameter_group_name || ' does not set ' || i.ssl_parameter || ': clear-text connections are accepted.'
         ELSE 'Parameter group ' || g.db_parameter_group_name || ' accepts clear-text connections (' || i.ssl_parameter || ' = ' || s.value || ').'
    END AS detail
FROM instances AS i
JOIN aws_rds_db_parameter_groups AS g
    ON g.account_id = i.account_id AND g.region = i.region AND g.db_parameter_group_name = i.group_name
LEFT JOIN settings AS s ON s.db_parameter_group_arn = g.arn AND s.parameter_name = i.ssl_parameter
