WITH admin_statements AS (
    SELECT s.source_table, s.source_arn, s.policy_name
    FROM cwpp_aws_policy_statements AS s
    WHERE s.effect = 'Allow'
      AND EXISTS (
          SELECT 1 FROM cwpp_aws_policy_statement_values AS v
          WHERE v.statement_id = s._cq_id AND v.element = 'Action' AND v.value IN ('*', '*:*')
      )
      AND EXISTS (
          SELECT 1 FROM cwpp_aws_policy_statement_values AS v
          WHERE v.statement_id = s._cq_id AND v.element = 'Resource' AND v.value = '*'
      )
),
admin_managed AS (
    SELECT DISTINCT source_arn AS policy_arn FROM admin_statements WHERE source_table = 'aws_iam_policies'
    UNION
    SELECT 'arn:aws:iam::aws:policy/AdministratorAccess' AS policy_arn
),
paths AS (
    SELECT ap.user_arn, 'managed policy ' || COALESCE(ap.policy_name, ap.policy_arn) || ' attached to the user' AS label
    FROM aws_iam_user_attached_policies AS ap
    JOIN admin_managed AS am ON am.policy_arn = ap.policy_arn
    UNION
    SELECT a.source_arn AS user_arn, 'inline policy ' || a.policy_name || ' of the user' AS label
    FROM admin_statements AS a
    WHERE a.source_table = 'aws_iam_user_policies'
    UNION
    SELECT ug.user_arn, 'managed policy ' || COALESCE(gp.policy_name, gp.policy_arn) || ' through group ' || ug.group_name AS label
    FROM aws_iam_user_groups AS ug
    JOIN aws_iam_group_attached_policies AS gp ON gp.group_arn = ug.arn
    JOIN admin_managed AS am ON am.policy_arn = gp.policy_arn
    UNION
    SELECT ug.user_arn, 'inline policy ' || a.policy_name || ' of group ' || ug.group_name AS label
    FROM aws_iam_user_groups AS ug
    JOIN admin_statements AS a ON a.source_table = 'aws_iam_group_policies' AND a.source_arn = ug.arn
),
per_user AS (
    SELECT user_arn, string_agg(label, '; ' ORDER BY label) AS labels FROM paths GROUP BY user_arn
)
SELECT
    u.arn AS resource_uid,
    u.user_name AS resource_name,
    u.account_id,
    '' AS region,
    u.tags,
    CASE WHEN p.user_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.user_arn IS NULL THEN 'No policy granting Action "*" on Resource "*" reaches the user.'
         ELSE 'Full administrator access (Allow "*" on "*") through ' || p.labels || '.' END AS detail
FROM aws_iam_users AS u
LEFT JOIN per_user AS p ON p.user_arn = u.arn
