WITH judged AS (
    SELECT
        account_id,
        bool_or(COALESCE(policy_exists, TRUE)) AS present,
        max(CASE WHEN COALESCE(policy_exists, TRUE) THEN minimum_password_length END) AS min_length
    FROM aws_iam_password_policies
    WHERE account_id IS NOT NULL
    GROUP BY account_id
)
SELECT
    'arn:aws:iam::' || account_id || ':root' AS resource_uid,
    account_id AS resource_name,
    account_id,
    '' AS region,
    CASE WHEN present AND COALESCE(min_length, 0) >= 14 THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN NOT present
             THEN 'The account has no custom password policy: IAM accepts passwords of 8 characters (needs 14 or more).'
         WHEN min_length IS NULL
             THEN 'The password policy sets no minimum length (needs 14 or more).'
         WHEN min_length >= 14
             THEN 'The password policy requires at least ' || CAST(min_length AS VARCHAR) || ' characters.'
         ELSE 'The password policy requires only ' || CAST(min_length AS VARCHAR) || ' characters (needs 14 or more).' END AS detail
FROM judged
