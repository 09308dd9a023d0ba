SELECT
    d.arn AS resource_uid,
    d.domain_name AS resource_name,
    d.account_id,
    d.region,
    d.tags,
    CASE WHEN d.security_policy IS NULL OR upper(d.security_policy) = 'TLS_1_0' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN d.security_policy IS NULL
             THEN 'No TLS security policy was reported for the custom domain.'
         WHEN upper(d.security_policy) = 'TLS_1_0'
             THEN 'Security policy TLS_1_0 lets clients negotiate TLS 1.0 and 1.1.'
         ELSE 'Security policy ' || d.security_policy || ' requires TLS 1.2 or later.' END AS detail
FROM aws_apigateway_domain_names AS d
