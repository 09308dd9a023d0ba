WITH judged AS (
    SELECT
        account_id,
        bool_or(COALESCE(policy_exists, TRUE)) AS present,
        max(CASE WHEN COALESCE(policy_exists, TRUE) THEN password_reuse_prevention END) AS reuse
    FROM aws_iam_password_policies
    WHERE account_id IS NOT NULL
    GROUP BY account_id
)
SELECT
    'arn:aws:iam::' || account_id || ':root' AS resource_uid,
    account_id AS resource_name,
    account_id,
    '' AS region,
    CASE WHEN present AND COALESCE(reuse, 0) >= 24 THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN NOT present
             THEN 'The account has no custom password policy: password reuse is not prevented (needs the last 24).'
         WHEN COALESCE(reuse, 0) = 0
             THEN 'The password policy does not prevent password reuse (needs the last 24).'
         WHEN reuse >= 24
             THEN 'The password policy prevents reuse of the last ' || CAST(reuse AS VARCHAR) || ' passwords.'
         ELSE 'The password policy prevents reuse of only the last ' || CAST(reuse AS VARCHAR) || ' passwords (needs 24).' END AS detail
FROM judged
