WITH accounts AS (
    SELECT account_id FROM aws_iam_accounts WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_iam_users WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_iam_password_policies WHERE account_id IS NOT NULL
),
user_counts AS (
    SELECT account_id, count(*) AS n FROM aws_iam_users GROUP BY account_id
),
summary AS (
    SELECT account_id, max(users) AS n FROM aws_iam_accounts GROUP BY account_id
),
policies AS (
    SELECT account_id, bool_or(COALESCE(policy_exists, TRUE)) AS present
    FROM aws_iam_password_policies GROUP BY account_id
),
judged AS (
    SELECT
        a.account_id,
        COALESCE(p.present, FALSE) AS has_policy,
        greatest(COALESCE(u.n, 0), COALESCE(s.n, 0)) AS users
    FROM accounts AS a
    LEFT JOIN user_counts AS u ON u.account_id = a.account_id
    LEFT JOIN summary AS s ON s.account_id = a.account_id
    LEFT JOIN policies AS p ON p.account_id = a.account_id
)
SELECT
    'arn:aws:iam::' || account_id || ':root' AS resource_uid,
    account_id AS resource_name,
    account_id,
    '' AS region,
    CASE WHEN NOT has_policy AND users > 0 THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN has_policy THEN 'The account has an IAM password policy.'
         WHEN users > 0 THEN 'The account has no IAM password policy but has ' || CAST(users AS VARCHAR) || ' IAM user(s).'
         ELSE 'The account has no IAM password policy, but it has no IAM users either.' END AS detail
FROM judged
