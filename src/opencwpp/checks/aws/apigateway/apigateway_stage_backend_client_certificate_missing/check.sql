-- Only APIs that call an HTTP backend over the internet can present a client certificate to it;
-- Lambda, AWS service, mock and VPC-link integrations are not judged.
WITH http_backends AS (
    SELECT
        m.rest_api_arn,
        count(*) AS methods
    FROM aws_apigateway_rest_api_resource_methods AS m
    WHERE upper(COALESCE(m.method_integration->>'$.Type', '')) IN ('HTTP', 'HTTP_PROXY')
      AND upper(COALESCE(m.method_integration->>'$.ConnectionType', 'INTERNET')) = 'INTERNET'
    GROUP BY m.rest_api_arn
)
SELECT
    s.arn AS resource_uid,
    COALESCE(a.name, a.id, s.rest_api_arn) || ' / ' || s.stage_name AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN NULLIF(s.client_certificate_id, '') IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN NULLIF(s.client_certificate_id, '') IS NULL
             THEN 'The stage calls ' || CAST(h.methods AS VARCHAR) || ' HTTP integration(s) over the internet without a client certificate, so the backend cannot verify the caller is API Gateway.'
         ELSE 'The stage presents client certificate ' || s.client_certificate_id || ' to its HTTP backends.' END AS detail
FROM aws_apigateway_rest_api_stages AS s
JOIN http_backends AS h ON h.rest_api_arn = s.rest_api_arn
LEFT JOIN aws_apigateway_rest_apis AS a ON a.arn = s.rest_api_arn
