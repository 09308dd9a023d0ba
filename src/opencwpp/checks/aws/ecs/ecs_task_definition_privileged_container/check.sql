WITH privileged AS (
    SELECT task_definition_arn, string_agg(DISTINCT container_name, ', ' ORDER BY container_name) AS names
    FROM cwpp_aws_ecs_task_definition_containers
    WHERE privileged
    GROUP BY task_definition_arn
)
SELECT
    d.arn AS resource_uid,
    COALESCE(d.family || ':' || CAST(d.revision AS VARCHAR), d.arn) AS resource_name,
    d.account_id,
    d.region,
    d.tags,
    CASE WHEN p.task_definition_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.task_definition_arn IS NULL
             THEN 'No container of the task definition runs privileged.'
         ELSE 'Privileged container(s): ' || p.names || '.'
    END AS detail
FROM aws_ecs_task_definitions AS d
LEFT JOIN privileged AS p ON p.task_definition_arn = d.arn
WHERE COALESCE(d.status, 'ACTIVE') = 'ACTIVE'
