WITH judged AS (
    SELECT
        account_id,
        COALESCE(minimum_password_length, 0) AS min_length,
        COALESCE(password_reuse_prevention, 0) AS reuse
    FROM aws_iam_password_policies
    WHERE COALESCE(policy_exists, TRUE)
)
SELECT
    'arn:aws:iam::' || account_id || ':root' AS resource_uid,
    account_id AS resource_name,
    account_id,
    '' AS region,
    CASE WHEN min_length >= 14 AND reuse >= 24 THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN min_length >= 14 AND reuse >= 24
             THEN 'The password policy requires at least ' || CAST(min_length AS VARCHAR) || ' characters and prevents reuse of the last ' || CAST(reuse AS VARCHAR) || ' passwords.'
         ELSE 'The password policy is weak: ' || concat_ws('; ',
                  CASE WHEN min_length < 14 THEN 'minimum length ' || CAST(min_length AS VARCHAR) || ' (needs 14 or more)' END,
                  CASE WHEN reuse = 0 THEN 'password reuse is not prevented (needs the last 24)'
                       WHEN reuse < 24 THEN 'reuse prevented for only the last ' || CAST(reuse AS VARCHAR) || ' passwords (needs 24)' END)
              || '.' END AS detail
FROM judged
