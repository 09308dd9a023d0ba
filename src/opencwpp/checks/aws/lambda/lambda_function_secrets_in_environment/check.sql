WITH found AS (
    SELECT
        resource_arn,
        string_agg(DISTINCT location || ' (' || kind || ')', ', ' ORDER BY location || ' (' || kind || ')') AS places
    FROM cwpp_aws_secret_exposures
    WHERE source_table = 'aws_lambda_functions'
    GROUP BY resource_arn
)
SELECT
    f.arn AS resource_uid,
    f.configuration->>'$.FunctionName' AS resource_name,
    f.account_id,
    f.region,
    f.tags,
    CASE WHEN x.resource_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN x.resource_arn IS NULL
             THEN 'No environment variable of the function looks like a secret.'
         ELSE 'Environment variable(s) holding what looks like a secret: ' || x.places || '.'
    END AS detail
FROM aws_lambda_functions AS f
LEFT JOIN found AS x ON x.resource_arn = f.arn
