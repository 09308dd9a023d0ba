WITH trusting AS (
    -- Allow statements of trust policies naming anyone, or a whole account other than the role's.
    SELECT
        s._cq_id AS statement_id,
        s.source_arn,
        CASE WHEN v.principal_type = '*' OR v.value = '*' THEN '*'
             WHEN v.value LIKE 'arn:%' ESCAPE '\' THEN split_part(v.value, ':', 5)
             ELSE v.value END AS trusted
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_values AS v ON v.statement_id = s._cq_id
    WHERE s.source_table = 'aws_iam_roles'
      AND s.effect = 'Allow'
      AND v.element = 'Principal'
      AND (
          v.principal_type = '*'
          OR (v.principal_type = 'AWS'
              AND (v.value = '*'
                   OR v.value LIKE 'arn:aws%:iam::%:root' ESCAPE '\'
                   OR v.value NOT LIKE 'arn:%' ESCAPE '\'))
      )
),
restricted AS (
    SELECT DISTINCT c.statement_id
    FROM cwpp_aws_policy_statement_conditions AS c
    WHERE c.source_table = 'aws_iam_roles'
      AND c.condition_key IN (
          'sts:externalid', 'aws:principalorgid', 'aws:principalarn', 'aws:principalaccount',
          'aws:sourceaccount', 'aws:sourcearn'
      )
      AND lower(c.operator) NOT LIKE '%not%' ESCAPE '\'
      AND lower(c.operator) NOT LIKE '%ifexists' ESCAPE '\'
      AND lower(c.operator) NOT LIKE 'forallvalues:%' ESCAPE '\'
      AND lower(c.operator) <> 'null'
      AND c.value NOT LIKE '%*%' ESCAPE '\'
      AND c.value NOT LIKE '%?%' ESCAPE '\'
      AND c.value <> ''
),
open_trust AS (
    SELECT t.source_arn, string_agg(DISTINCT t.trusted, ', ' ORDER BY t.trusted) AS trusted
    FROM trusting AS t
    JOIN aws_iam_roles AS r ON r.arn = t.source_arn
    LEFT JOIN restricted AS x ON x.statement_id = t.statement_id
    WHERE x.statement_id IS NULL AND t.trusted <> r.account_id
    GROUP BY t.source_arn
)
SELECT
    r.arn AS resource_uid,
    r.role_name AS resource_name,
    r.account_id,
    NULL AS region,
    r.tags,
    CASE WHEN o.source_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN o.source_arn IS NULL
         THEN 'The trust policy trusts no whole foreign account or anyone without a restricting condition.'
         ELSE 'The trust policy lets ' || o.trusted || ' assume the role with no external id or other condition pinning the caller.'
    END AS detail
FROM aws_iam_roles AS r
LEFT JOIN open_trust AS o ON o.source_arn = r.arn
