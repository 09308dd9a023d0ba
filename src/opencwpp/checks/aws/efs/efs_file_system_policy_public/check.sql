WITH everyone AS (
    -- Allow statements of EFS file system policies whose principal is everyone.
    SELECT DISTINCT s._cq_id AS statement_id, s.source_arn, s.statement_index, s.sid
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_values AS v ON v.statement_id = s._cq_id
    WHERE s.source_table = 'aws_efs_filesystems'
      AND s.effect = 'Allow'
      AND (
          (v.element = 'Principal' AND v.principal_type = '*')
          OR (v.element = 'Principal' AND v.principal_type = 'AWS' AND v.value LIKE '%*%' ESCAPE '\')
          OR v.element = 'NotPrincipal'
      )
),
restricting AS (
    -- Conditions that pin the caller to fixed values (IAM Access Analyzer's meaning of public).
    SELECT DISTINCT c.statement_id
    FROM cwpp_aws_policy_statement_conditions AS c
    WHERE (
              c.condition_key IN (
                  'aws:sourceip', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourcearn',
                  'aws:sourceaccount', 'aws:sourceowner', 'aws:sourceorgid', 'aws:sourceorgpaths',
                  'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount', 'aws:principalarn',
                  'aws:userid'
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
          c.condition_key = 'aws:sourceip'
          AND CASE WHEN c.value LIKE '%/%' ESCAPE '\'
                   THEN CAST(split_part(c.value, '/', 2) AS INTEGER) < 8
                   ELSE FALSE END
      )
),
public_statements AS (
    SELECT
        e.source_arn,
        string_agg(
            COALESCE('"' || NULLIF(e.sid, '') || '"', '#' || CAST(e.statement_index AS VARCHAR)),
            ', ' ORDER BY e.statement_index
        ) AS labels
    FROM everyone AS e
    LEFT JOIN restricting AS r ON r.statement_id = e.statement_id
    WHERE r.statement_id IS NULL
    GROUP BY e.source_arn
)
SELECT
    x.arn AS resource_uid,
    COALESCE(NULLIF(x.name, ''), x.file_system_id) AS resource_name,
    x.account_id,
    x.region,
    x.tags AS tags,
    CASE WHEN p.labels IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.labels IS NULL
             THEN 'The file system policy has no Allow statement for everyone without a restricting condition (without a policy, access is limited to clients that reach a mount target in the VPC).'
         ELSE 'File system policy statement(s) ' || p.labels || ' allow everyone (a wildcard principal or NotPrincipal) without a condition that restricts the caller.'
    END AS detail
FROM aws_efs_filesystems AS x
LEFT JOIN public_statements AS p ON p.source_arn = x.arn
