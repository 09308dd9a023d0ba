WITH tls_denies AS (
    -- Deny statements of bucket policies conditioned on aws:SecureTransport = false.
    SELECT s.source_arn, s._cq_id AS statement_id
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_conditions AS c ON c.statement_id = s._cq_id
    WHERE s.source_table = 'aws_s3_bucket_policies'
      AND s.effect = 'Deny'
      AND lower(c.operator) IN ('bool', 'boolifexists')
      AND c.condition_key = 'aws:securetransport'
      AND lower(c.value) = 'false'
),
covering AS (
    -- Of those, the ones covering every principal, every S3 action and the bucket's objects.
    SELECT DISTINCT d.source_arn
    FROM tls_denies AS d
    WHERE EXISTS (
              SELECT 1 FROM cwpp_aws_policy_statement_values AS v
              WHERE v.statement_id = d.statement_id AND v.element = 'Principal'
                AND (v.principal_type = '*' OR (v.principal_type = 'AWS' AND v.value = '*'))
          )
      AND EXISTS (
              SELECT 1 FROM cwpp_aws_policy_statement_values AS v
              WHERE v.statement_id = d.statement_id AND v.element = 'Action'
                AND lower(v.value) IN ('*', 's3:*')
          )
      AND EXISTS (
              SELECT 1 FROM cwpp_aws_policy_statement_values AS v
              WHERE v.statement_id = d.statement_id AND v.element = 'Resource'
                AND (v.value IN ('*', 'arn:aws:s3:::*') OR v.value = d.source_arn || '/*' OR v.value = d.source_arn || '*')
          )
),
policies AS (
    SELECT s.source_arn, count(*) AS statements
    FROM cwpp_aws_policy_statements AS s
    WHERE s.source_table = 'aws_s3_bucket_policies'
    GROUP BY s.source_arn
),
partial AS (
    SELECT DISTINCT source_arn FROM tls_denies
)
SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN cov.source_arn IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN cov.source_arn IS NOT NULL
             THEN 'The bucket policy denies every request made without TLS (aws:SecureTransport = false).'
         WHEN part.source_arn IS NOT NULL
             THEN 'The bucket policy denies requests without TLS only for some principals, actions or resources, not for all principals, s3:* and the bucket''s objects.'
         WHEN pol.source_arn IS NOT NULL
             THEN 'The bucket policy has no Deny statement for requests where aws:SecureTransport is false, so plain HTTP requests are accepted.'
         ELSE 'The bucket has no bucket policy, so plain HTTP requests are not denied.' END AS detail
FROM aws_s3_buckets AS b
LEFT JOIN covering AS cov ON cov.source_arn = b.arn
LEFT JOIN partial AS part ON part.source_arn = b.arn
LEFT JOIN policies AS pol ON pol.source_arn = b.arn
