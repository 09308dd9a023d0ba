-- The viewer certificate decides the minimum TLS version viewers may negotiate. With the default
-- *.cloudfront.net certificate CloudFront always accepts TLSv1 (the minimum cannot be raised).
WITH viewer AS (
    SELECT
        d.*,
        lower(COALESCE(d.distribution_config->>'$.ViewerCertificate.CloudFrontDefaultCertificate', '')) = 'true' AS default_certificate,
        d.distribution_config->>'$.ViewerCertificate.MinimumProtocolVersion' AS minimum
    FROM aws_cloudfront_distributions AS d
)
SELECT
    v.arn AS resource_uid,
    COALESCE(v.domain_name, v.id) AS resource_name,
    v.account_id,
    '' AS region,
    v.tags,
    CASE WHEN v.default_certificate
              OR v.minimum IS NULL
              OR v.minimum IN ('SSLv3', 'TLSv1', 'TLSv1_2016', 'TLSv1.1_2016')
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN v.default_certificate
             THEN 'The distribution uses the default *.cloudfront.net certificate, with which CloudFront accepts TLS 1.0 and 1.1 from viewers.'
         WHEN v.minimum IS NULL
             THEN 'No minimum viewer protocol version was reported for the custom certificate.'
         WHEN v.minimum IN ('SSLv3', 'TLSv1', 'TLSv1_2016', 'TLSv1.1_2016')
             THEN 'Security policy ' || v.minimum || ' lets viewers negotiate protocols older than TLS 1.2.'
         ELSE 'Security policy ' || v.minimum || ' requires TLS 1.2 or later from viewers.' END AS detail
FROM viewer AS v
