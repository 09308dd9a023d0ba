-- Who holds AWS's AWSSupportAccess managed policy, through a role, a group or directly.
WITH holders AS (
    SELECT account_id, 'role ' || split_part(role_arn, '/', -1) AS holder
    FROM aws_iam_role_attached_policies
    WHERE policy_arn = 'arn:aws:iam::aws:policy/AWSSupportAccess'
    UNION ALL
    SELECT account_id, 'group ' || split_part(group_arn, '/', -1)
    FROM aws_iam_group_attached_policies
    WHERE policy_arn = 'arn:aws:iam::aws:policy/AWSSupportAccess'
    UNION ALL
    SELECT account_id, 'user ' || split_part(user_arn, '/', -1)
    FROM aws_iam_user_attached_policies
    WHERE policy_arn = 'arn:aws:iam::aws:policy/AWSSupportAccess'
),
per_account AS (
    SELECT account_id, string_agg(DISTINCT holder, ', ' ORDER BY holder) AS holders
    FROM holders
    GROUP BY account_id
)
SELECT
    'arn:aws:iam::' || a.account_id || ':root' AS resource_uid,
    a.account_id AS resource_name,
    a.account_id,
    '' AS region,
    CASE WHEN p.holders IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.holders IS NULL
             THEN 'No role, group or user holds AWSSupportAccess: raising a support case during an incident needs the root user or an administrator.'
         ELSE 'AWSSupportAccess is held by: ' || p.holders || '.'
    END AS detail
FROM aws_iam_accounts AS a
LEFT JOIN per_account AS p ON p.account_id = a.account_id
