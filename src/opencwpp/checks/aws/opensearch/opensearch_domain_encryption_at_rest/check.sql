WITH domains AS (
    SELECT d.*, lower(COALESCE(d.encryption_at_rest_options->>'$.Enabled', 'false')) = 'true' AS encrypted
    FROM aws_elasticsearch_domains AS d
    WHERE NOT COALESCE(d.deleted, FALSE)
)
SELECT
    arn AS resource_uid,
    domain_name AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN encrypted THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN encrypted THEN 'The domain is encrypted at rest with KMS key '
                             || COALESCE(NULLIF(encryption_at_rest_options->>'$.KmsKeyId', ''), '(not reported)') || '.'
         ELSE 'The domain''s indices and snapshots are not encrypted at rest.'
    END AS detail
FROM domains
