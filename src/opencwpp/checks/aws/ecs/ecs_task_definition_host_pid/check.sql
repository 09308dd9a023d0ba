SELECT
    arn AS resource_uid,
    COALESCE(family || ':' || CAST(revision AS VARCHAR), arn) AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN pid_mode = 'host' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN pid_mode = 'host' THEN 'The task''s containers share the host''s process namespace (pidMode host).'
         WHEN pid_mode = 'task' THEN 'Containers of the task share one process namespace, separate from the host''s.'
         ELSE 'Each container has its own process namespace.'
    END AS detail
FROM aws_ecs_task_definitions
WHERE COALESCE(status, 'ACTIVE') = 'ACTIVE'
