-- DescribeCertificate spells key algorithms RSA_2048 (ListCertificates) or RSA-2048 (older answers).
SELECT
    c.arn AS resource_uid,
    COALESCE(c.domain_name, c.arn) AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN replace(upper(COALESCE(c.key_algorithm, '')), '-', '_') IN ('RSA_1024', 'RSA_512') THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN replace(upper(COALESCE(c.key_algorithm, '')), '-', '_') IN ('RSA_1024', 'RSA_512')
             THEN 'The certificate''s key is ' || c.key_algorithm || ', shorter than 2048 bits.'
         ELSE 'The certificate''s key is ' || COALESCE(c.key_algorithm, 'of an unreported algorithm') || '.' END AS detail
FROM aws_acm_certificates AS c
WHERE upper(COALESCE(c.status, '')) NOT IN ('EXPIRED', 'REVOKED', 'FAILED', 'VALIDATION_TIMED_OUT')
