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
not_action AS (
    SELECT
        s.source_table,
        s.source_arn,
        s.policy_name,
        s.statement_index,
        COALESCE('"' || NULLIF(s.sid, '') || '"', '#' || CAST(s.statement_index AS VARCHAR))
            || ' (all but ' || string_agg(v.value, ', ' ORDER BY v.value) || ')' AS label
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_values AS v ON v.statement_id = s._cq_id AND v.element = 'NotAction'
    WHERE s.effect = 'Allow'
      AND s.source_table IN ('aws_iam_policies', 'aws_iam_user_policies', 'aws_iam_group_policies', 'aws_iam_role_policies')
    GROUP BY s.source_table, s.source_arn, s.policy_name, s.statement_index, s.sid
),
per_policy AS (
    SELECT source_table, source_arn, policy_name, string_agg(label, ', ' ORDER BY statement_index) AS labels
    FROM not_action
    GROUP BY source_table, source_arn, policy_name
)
SELECT
    x.uid AS resource_uid,
    x.name AS resource_name,
    x.account_id,
    '' AS region,
    x.tags,
    CASE WHEN n.labels IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN n.labels IS NULL THEN 'No statement of the policy combines Allow with NotAction.'
         ELSE 'Allow statement(s) with NotAction allow every other action: ' || n.labels || '.' END AS detail
FROM policies AS x
LEFT JOIN per_policy AS n
    ON n.source_table = x.source_table
   AND n.source_arn = x.source_arn
   AND (x.inline_name IS NULL OR n.policy_name = x.inline_name)
