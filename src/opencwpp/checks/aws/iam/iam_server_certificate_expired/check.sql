SELECT
    c.arn AS resource_uid,
    c.server_certificate_name AS resource_name,
    c.account_id,
    '' AS region,
    CASE WHEN c.expiration < current_timestamp THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN c.expiration IS NULL THEN 'The certificate reports no expiry date.'
         WHEN c.expiration < current_timestamp
             THEN 'The certificate expired on ' || CAST(CAST(c.expiration AS DATE) AS VARCHAR) || ' and is still stored in IAM.'
         ELSE 'The certificate is valid until ' || CAST(CAST(c.expiration AS DATE) AS VARCHAR) || '.'
    END AS detail
FROM aws_iam_server_certificates AS c
