SELECT
    f.arn AS resource_uid,
    f.configuration->>'$.FunctionName' AS resource_name,
    f.account_id,
    f.region,
    f.tags,
    CASE WHEN trim(COALESCE(f.configuration->>'$.KMSKeyArn', '')) <> '' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN trim(COALESCE(f.configuration->>'$.KMSKeyArn', '')) <> ''
             THEN 'Environment variables are encrypted with the customer managed key ' || (f.configuration->>'$.KMSKeyArn') || '.'
         ELSE 'Environment variables are encrypted with the AWS managed key aws/lambda, not a customer managed key.' END AS detail
FROM aws_lambda_functions AS f
WHERE (f.configuration->'$.Environment.Variables') IS NOT NULL
  AND CAST((f.configuration->'$.Environment.Variables') AS VARCHAR) NOT IN ('{}', 'null')
