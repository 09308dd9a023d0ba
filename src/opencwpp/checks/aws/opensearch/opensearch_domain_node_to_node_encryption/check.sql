WITH domains AS (
    SELECT d.*, lower(COALESCE(d.node_to_node_encryption_options->>'$.Enabled', 'false')) = 'true' AS encrypted
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
    CASE WHEN encrypted THEN 'Traffic between the domain''s nodes is TLS-encrypted.'
         ELSE 'Traffic between the domain''s nodes is not encrypted.'
    END AS detail
FROM domains
