WITH found AS (
    SELECT
        resource_arn,
        string_agg(DISTINCT location || ' (' || kind || ')', ', ' ORDER BY location || ' (' || kind || ')') AS places
    FROM cwpp_aws_secret_exposures
    WHERE source_table = 'aws_autoscaling_launch_configurations'
    GROUP BY resource_arn
)
SELECT
    c.arn AS resource_uid,
    c.launch_configuration_name AS resource_name,
    c.account_id,
    c.region,
    CASE WHEN x.resource_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN x.resource_arn IS NULL
             THEN 'Nothing in the launch configuration''s user data looks like a secret.'
         ELSE 'User data holds what looks like a secret at: ' || x.places || '.'
    END AS detail
FROM aws_autoscaling_launch_configurations AS c
LEFT JOIN found AS x ON x.resource_arn = c.arn
