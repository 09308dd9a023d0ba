WITH found AS (
    SELECT
        resource_arn,
        string_agg(DISTINCT location || ' (' || kind || ')', ', ' ORDER BY location || ' (' || kind || ')') AS places
    FROM cwpp_aws_secret_exposures
    WHERE source_table = 'aws_ec2_launch_template_versions'
    GROUP BY resource_arn
)
SELECT
    t.arn AS resource_uid,
    COALESCE(NULLIF(t.launch_template_name, ''), t.launch_template_id) AS resource_name,
    t.account_id,
    t.region,
    t.tags,
    CASE WHEN x.resource_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN x.resource_arn IS NULL
             THEN 'Nothing in the user data of the template''s versions looks like a secret.'
         ELSE 'User data holds what looks like a secret at: ' || x.places || '.'
    END AS detail
FROM aws_ec2_launch_templates AS t
LEFT JOIN found AS x ON x.resource_arn = t.arn
