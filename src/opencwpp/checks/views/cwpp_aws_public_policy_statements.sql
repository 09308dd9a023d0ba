-- Resource-policy statements that let everyone in: one row per policy (source_table, source_arn)
-- with the statements that do, labelled by Sid or index. Shared by every "policy is public" check.
WITH everyone AS (
    -- Allow statements whose principal is everyone: `*`, an AWS wildcard, or any NotPrincipal.
    SELECT DISTINCT s._cq_id AS statement_id, s.source_table, s.source_arn, s.statement_index, s.sid
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_values AS v ON v.statement_id = s._cq_id
    WHERE s.effect = 'Allow'
      AND (
          (v.element = 'Principal' AND v.principal_type = '*')
          OR (v.element = 'Principal' AND v.principal_type = 'AWS' AND v.value LIKE '%*%' ESCAPE '\')
          OR v.element = 'NotPrincipal'
      )
),
restricting AS (
    -- Conditions that pin the caller to fixed values (IAM Access Analyzer's and S3's meaning of
    -- public). Service keys are safe to list for every service: a key a service never sets makes
    -- the Allow match nobody, which is not public either.
    SELECT DISTINCT c.statement_id
    FROM cwpp_aws_policy_statement_conditions AS c
    WHERE (
              c.condition_key IN (
                  'aws:sourceip', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourcearn',
                  'aws:sourceaccount', 'aws:sourceowner', 'aws:sourceorgid', 'aws:sourceorgpaths',
                  'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount',
                  'aws:principalarn', 'aws:userid', 'kms:calleraccount', 'lambda:eventsourcetoken',
                  's3:x-amz-server-side-encryption-aws-kms-key-id'
              )
              OR (c.condition_key = 'elasticfilesystem:accessedviamounttarget'
                  AND lower(c.value) = 'true')
          )
      AND lower(c.operator) NOT LIKE '%not%' ESCAPE '\'
      AND lower(c.operator) NOT LIKE '%ifexists' ESCAPE '\'
      AND lower(c.operator) NOT LIKE 'forallvalues:%' ESCAPE '\'
      AND lower(c.operator) NOT LIKE 'null' ESCAPE '\'
      AND c.value NOT LIKE '%*%' ESCAPE '\'
      AND c.value NOT LIKE '%?%' ESCAPE '\'
      AND c.value <> ''
      AND NOT (
          -- The key test sits inside the CASE: DuckDB evaluates both sides of an AND, and a
          -- value like `arn:…:rule/x` under another key must never reach the CAST.
          CASE WHEN c.condition_key = 'aws:sourceip' AND c.value LIKE '%/%' ESCAPE '\'
               THEN CAST(split_part(c.value, '/', 2) AS INTEGER) < 8
               ELSE FALSE END
      )
)
SELECT
    e.source_table,
    e.source_arn,
    string_agg(
        COALESCE('"' || NULLIF(e.sid, '') || '"', '#' || CAST(e.statement_index AS VARCHAR)),
        ', ' ORDER BY e.statement_index
    ) AS labels
FROM everyone AS e
LEFT JOIN restricting AS r ON r.statement_id = e.statement_id
WHERE r.statement_id IS NULL
GROUP BY e.source_table, e.source_arn
