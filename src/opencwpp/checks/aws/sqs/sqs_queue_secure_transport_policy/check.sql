WITH tls_denies AS (
    -- Deny statements of the queue policies conditioned on aws:SecureTransport = false.
    SELECT s.source_arn, s._cq_id AS statement_id
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_conditions AS c ON c.statement_id = s._cq_id
    WHERE s.source_table = 'aws_sqs_queues'
      AND s.effect = 'Deny'
      AND lower(c.operator) IN ('bool', 'boolifexists')
      AND c.condition_key = 'aws:securetransport'
      AND lower(c.value) = 'false'
),
covering AS (
    -- Of those, the ones covering every principal, every sqs action and the queue itself.
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
                AND lower(v.value) IN ('*', 'sqs:*')
          )
      AND EXISTS (
              SELECT 1 FROM cwpp_aws_policy_statement_values AS v
              WHERE v.statement_id = d.statement_id AND v.element = 'Resource'
                AND v.value IN ('*', d.source_arn)
          )
),
policies AS (
    SELECT DISTINCT s.source_arn FROM cwpp_aws_policy_statements AS s WHERE s.source_table = 'aws_sqs_queues'
),
partial AS (
    SELECT DISTINCT source_arn FROM tls_denies
)
SELECT
    r.arn AS resource_uid,
    split_part(r.arn, ':', 6) AS resource_name,
    r.account_id,
    r.region,
    r.tags,
    CASE WHEN cov.source_arn IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN cov.source_arn IS NOT NULL
             THEN 'The queue policy denies every request made without TLS (aws:SecureTransport = false).'
         WHEN part.source_arn IS NOT NULL
             THEN 'The queue policy denies requests without TLS only for some principals, actions or resources, not for all principals, sqs:* and the queue.'
         WHEN pol.source_arn IS NOT NULL
             THEN 'The queue policy has no Deny statement for requests where aws:SecureTransport is false.'
         ELSE 'The queue has no access policy, so requests over plain HTTP are not denied.' END AS detail
FROM aws_sqs_queues AS r
LEFT JOIN covering AS cov ON cov.source_arn = r.arn
LEFT JOIN partial AS part ON part.source_arn = r.arn
LEFT JOIN policies AS pol ON pol.source_arn = r.arn
