WITH direct AS (
    SELECT user_arn, 'managed policy ' || COALESCE(policy_name, policy_arn) AS label
    FROM aws_iam_user_attached_policies
    UNION ALL
    SELECT user_arn, 'inline policy ' || policy_name AS label
    FROM aws_iam_user_policies
),
per_user AS (
    SELECT user_arn, string_agg(label, ', ' ORDER BY label) AS labels
    FROM direct
    GROUP BY user_arn
)
SELECT
    u.arn AS resource_uid,
    u.user_name AS resource_name,
    u.account_id,
    '' AS region,
    u.tags,
    CASE WHEN p.user_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.user_arn IS NULL THEN 'The user has no directly attached or inline policy.'
         ELSE 'Policies attached directly to the user: ' || p.labels || '.' END AS detail
FROM aws_iam_users AS u
LEFT JOIN per_user AS p ON p.user_arn = u.arn
