-- Methods are rows of aws_apigateway_rest_api_resource_methods. CORS preflight (OPTIONS) methods
-- are unauthenticated by design; private APIs are reachable only through VPC endpoints and their
-- resource policy, and are not judged here.
WITH open_methods AS (
    SELECT
        m.rest_api_arn,
        count(*) AS n,
        string_agg(
            m.http_method || ' ' || COALESCE(r.path, '?')
            || CASE WHEN COALESCE(m.api_key_required, FALSE) THEN ' (API key only)' ELSE '' END,
            ', ' ORDER BY r.path, m.http_method
        ) AS methods
    FROM aws_apigateway_rest_api_resource_methods AS m
    LEFT JOIN aws_apigateway_rest_api_resources AS r ON r.arn = m.resource_arn
    WHERE upper(COALESCE(m.authorization_type, 'NONE')) = 'NONE'
      AND upper(m.http_method) <> 'OPTIONS'
    GROUP BY m.rest_api_arn
),
judged AS (
    SELECT
        a.*,
        upper(COALESCE(a.endpoint_configuration->>'$.Types[0]', '')) AS endpoint_type
    FROM aws_apigateway_rest_apis AS a
)
SELECT
    a.arn AS resource_uid,
    COALESCE(a.name, a.id) AS resource_name,
    a.account_id,
    a.region,
    a.tags,
    CASE WHEN o.rest_api_arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN o.rest_api_arn IS NOT NULL
             THEN CAST(o.n AS VARCHAR) || ' method(s) without authorization (no IAM, Lambda or Cognito authorizer): ' || o.methods || '.'
         ELSE 'Every method other than OPTIONS requires IAM, a Lambda authorizer or a Cognito user pool.' END AS detail
FROM judged AS a
LEFT JOIN open_methods AS o ON o.rest_api_arn = a.arn
WHERE a.endpoint_type <> 'PRIVATE'
