WITH root_containers AS (
    SELECT c.task_definition_arn, string_agg(DISTINCT c.container_name, ', ' ORDER BY c.container_name) AS names
    FROM cwpp_aws_ecs_task_definition_containers AS c
    WHERE NOT COALESCE(c.privileged, FALSE)
      AND (COALESCE(c.container_user, '') IN ('', 'root', '0')
           OR c.container_user LIKE 'root:%' ESCAPE '\'
           OR c.container_user LIKE '0:%' ESCAPE '\')
    GROUP BY c.task_definition_arn
)
SELECT
    d.arn AS resource_uid,
    COALESCE(d.family || ':' || CAST(d.revision AS VARCHAR), d.arn) AS resource_name,
    d.account_id,
    d.region,
    d.tags,
    CASE WHEN d.network_mode = 'host' AND r.task_definition_arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN d.network_mode = 'host' AND r.task_definition_arn IS NOT NULL
             THEN 'Host network mode with container(s) running as root: ' || r.names || '.'
         WHEN d.network_mode = 'host'
             THEN 'Host network mode, but every container runs as a non-root user (or is explicitly privileged).'
         ELSE 'The task uses the ' || COALESCE(NULLIF(d.network_mode, ''), 'default') || ' network mode, not the host''s.'
    END AS detail
FROM aws_ecs_task_definitions AS d
LEFT JOIN root_containers AS r ON r.task_definition_arn = d.arn
WHERE COALESCE(d.status, 'ACTIVE') = 'ACTIVE'
