-- origin_ssl_protocols is the comma-separated list CloudFront may use towards a custom origin.
-- Origins reached over HTTP only never use TLS and are judged by cloudfront_origin_traffic_unencrypted.
WITH sslv3 AS (
    SELECT
        o.distribution_arn,
        string_agg(o.origin_id || ' (' || o.origin_ssl_protocols || ')', ', ' ORDER BY o.origin_id) AS origins
    FROM cwpp_aws_cloudfront_distribution_origins AS o
    WHERE o.origin_type = 'custom'
      AND COALESCE(lower(o.origin_protocol_policy), '') <> 'http-only'
      AND (',' || COALESCE(o.origin_ssl_protocols, '') || ',') LIKE '%,SSLv3,%' ESCAPE '\'
    GROUP BY o.distribution_arn
),
tls_origins AS (
    SELECT DISTINCT distribution_arn
    FROM cwpp_aws_cloudfront_distribution_origins
    WHERE origin_type = 'custom' AND COALESCE(lower(origin_protocol_policy), '') <> 'http-only'
)
SELECT
    d.arn AS resource_uid,
    COALESCE(d.domain_name, d.id) AS resource_name,
    d.account_id,
    '' AS region,
    d.tags,
    CASE WHEN s.distribution_arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN s.distribution_arn IS NOT NULL
             THEN 'Custom origin(s) that CloudFront may reach over SSL 3.0: ' || s.origins || '.'
         WHEN t.distribution_arn IS NULL
             THEN 'The distribution has no custom origin reached over HTTPS.'
         ELSE 'No custom origin allows SSL 3.0.' END AS detail
FROM aws_cloudfront_distributions AS d
JOIN tls_origins AS t ON t.distribution_arn = d.arn
LEFT JOIN sslv3 AS s ON s.distribution_arn = d.arn
