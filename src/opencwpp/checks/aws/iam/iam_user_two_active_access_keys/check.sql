WITH active AS (
    SELECT user_arn, count(*) AS n, string_agg(access_key_id, ', ' ORDER BY access_key_id) AS keys
    FROM aws_iam_user_access_keys
    WHERE status = 'Active'
    GROUP BY user_arn
)
SELECT
    u.arn AS resource_uid,
    u.user_name AS resource_name,
    u.account_id,
    '' AS region,
    u.tags,
    CASE WHEN COALESCE(a.n, 0) > 1 THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(a.n, 0) > 1 THEN 'The user has ' || CAST(a.n AS VARCHAR) || ' active access keys: ' || a.keys || '.'
         ELSE 'The user has ' || CAST(COALESCE(a.n, 0) AS VARCHAR) || ' active access key(s).' END AS detail
FROM aws_iam_users AS u
LEFT JOIN active AS a ON a.user_arn = u.arn
