WITH found AS (
    SELECT
        resource_arn,
        string_agg(DISTINCT location || ' (' || kind || ')', ', ' ORDER BY location || ' (' || kind || ')') AS places
    FROM cwpp_aws_secret_exposures
    WHERE source_table = 'aws_ecs_task_definitions'
    GROUP BY resource_arn
)
SELECT
    d.arn AS resource_uid,
    COALESCE(d.family || ':' || CAST(d.revision AS VARCHAR), d.arn) AS resource_name,
    d.account_id,
    d.region,
    d.tags,
    CASE WHEN x.resource_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN x.resource_arn IS NULL
             THEN 'No container environment variable of the task definition looks like a secret.'
         ELSE 'Environment variable(s) holding what looks like a secret: ' || x.places || '.'
    END AS detail
FROM aws_ecs_task_definitions AS d
LEFT JOIN found AS x ON x.resource_arn = d.arn
WHERE COALESCE(d.status, 'ACTIVE') = 'ACTIVE'
