WITH domains AS (
    SELECT
        d.*,
        lower(COALESCE(d.domain_endpoint_options->>'$.EnforceHTTPS', 'false')) = 'true' AS https_only,
        COALESCE(d.domain_endpoint_options->>'$.TLSSecurityPolicy', '') AS tls_policy
    FROM aws_elasticsearch_domains AS d
    WHERE NOT COALESCE(d.deleted, FALSE)
)
SELECT
    arn AS resource_uid,
    domain_name AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN https_only AND tls_policy LIKE 'Policy-Min-TLS-1-2%' ESCAPE '\' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN NOT https_only THEN 'The endpoint accepts plain HTTP (EnforceHTTPS is not on).'
         WHEN tls_policy NOT LIKE 'Policy-Min-TLS-1-2%' ESCAPE '\'
             THEN 'HTTPS is enforced but the TLS policy (' || COALESCE(NULLIF(tls_policy, ''), 'not reported') || ') admits TLS 1.0 and 1.1.'
         WHEN tls_policy = 'Policy-Min-TLS-1-2-PFS-2023-10' THEN 'HTTPS is enforced with TLS 1.2+ and forward-secret ciphers (' || tls_policy || ').'
         ELSE 'HTTPS is enforced with TLS 1.2+ (' || tls_policy || '; Policy-Min-TLS-1-2-PFS-2023-10 is the newest).'
    END AS detail
FROM domains
