WITH found AS (
    SELECT
        resource_arn,
        string_agg(DISTINCT location || ' (' || kind || ')', ', ' ORDER BY location || ' (' || kind || ')') AS places
    FROM cwpp_aws_secret_exposures
    WHERE source_table = 'aws_ec2_instances'
    GROUP BY resource_arn
)
SELECT
    i.arn AS resource_uid,
    COALESCE(i.tags->>'$.Name', i.instance_id) AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN x.resource_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN x.resource_arn IS NULL
             THEN 'Nothing in the instance''s user data looks like a secret.'
         ELSE 'User data holds what looks like a secret at: ' || x.places || '.'
    END AS detail
FROM aws_ec2_instances AS i
LEFT JOIN found AS x ON x.resource_arn = i.arn
