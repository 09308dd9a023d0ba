-- The judged policies: customer-managed (by ARN) and inline ones (principal ARN + policy name).
WITH policies AS (
    SELECT p.arn AS uid, p.policy_name AS name, p.account_id, p.tags,
           'aws_iam_policies' AS source_table, p.arn AS source_arn, NULL AS inline_name
    FROM aws_iam_policies AS p
    WHERE split_part(p.arn, ':', 5) <> 'aws'
    UNION ALL
    SELECT u.user_arn || '#inline-policy/' || u.policy_name, u.policy_name, u.account_id, NULL,
           'aws_iam_user_policies', u.user_arn, u.policy_name
    FROM aws_iam_user_policies AS u
    UNION ALL
    SELECT g.group_arn || '#inline-policy/' || g.policy_name, g.policy_name, g.account_id, NULL,
           'aws_iam_group_policies', g.group_arn, g.policy_name
    FROM aws_iam_group_policies AS g
    UNION ALL
    SELECT r.role_arn || '#inline-policy/' || r.policy_name, r.policy_name, r.account_id, NULL,
           'aws_iam_role_policies', r.role_arn, r.policy_name
    FROM aws_iam_role_policies AS r
),
allow AS (
    SELECT s._cq_id AS statement_id, s.source_table, s.source_arn, s.policy_name, s.statement_index, s.sid
    FROM cwpp_aws_policy_statements AS s
    WHERE s.effect = 'Allow'
      AND s.source_table IN ('aws_iam_policies', 'aws_iam_user_policies', 'aws_iam_group_policies', 'aws_iam_role_policies')
),
passrole AS (
    -- Statements whose actions include iam:PassRole (a matching pattern, or NotAction not excluding it).
    SELECT a.*
    FROM allow AS a
    WHERE EXISTS (
              SELECT 1 FROM cwpp_aws_policy_statement_values AS v
              WHERE v.statement_id = a.statement_id AND v.element = 'Action'
                AND 'iam:passrole' LIKE replace(replace(lower(v.value), '*', '%'), '?', '_') ESCAPE '\'
          )
       OR (
          EXISTS (SELECT 1 FROM cwpp_aws_policy_statement_values AS v
                  WHERE v.statement_id = a.statement_id AND v.element = 'NotAction')
          AND NOT EXISTS (
              SELECT 1 FROM cwpp_aws_policy_statement_values AS v
              WHERE v.statement_id = a.statement_id AND v.element = 'NotAction'
                AND 'iam:passrole' LIKE replace(replace(lower(v.value), '*', '%'), '?', '_') ESCAPE '\'
          )
       )
),
any_role AS (
    SELECT
        p.source_table,
        p.source_arn,
        p.policy_name,
        string_agg(COALESCE('"' || NULLIF(p.sid, '') || '"', '#' || CAST(p.statement_index AS VARCHAR)),
                   ', ' ORDER BY p.statement_index) AS labels
    FROM passrole AS p
    WHERE EXISTS (
        SELECT 1 FROM cwpp_aws_policy_statement_values AS v
        WHERE v.statement_id = p.statement_id
          AND (v.element = 'NotResource'
               OR (v.element = 'Resource'
                   AND (v.value = '*' OR regexp_matches(v.value, '^arn:[^:]+:iam::[^:]*:(\*|role/\*)$'))))
    )
    GROUP BY p.source_table, p.source_arn, p.policy_name
)
SELECT
    x.uid AS resource_uid,
    x.name AS resource_name,
    x.account_id,
    '' AS region,
    x.tags,
    CASE WHEN a.labels IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN a.labels IS NULL THEN 'No Allow statement of the policy lets its holder pass every role.'
         ELSE 'Statement(s) ' || a.labels || ' allow iam:PassRole on every role (Resource "*", role/* or NotResource).' END AS detail
FROM policies AS x
LEFT JOIN any_role AS a
    ON a.source_table = x.source_table
   AND a.source_arn = x.source_arn
   AND (x.inline_name IS NULL OR a.policy_name = x.inline_name)
