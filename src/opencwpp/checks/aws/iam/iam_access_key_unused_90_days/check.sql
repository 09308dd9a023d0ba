WITH stale_keys AS (
    SELECT
        k.user_arn,
        string_agg(
            k.access_key_id || CASE WHEN k.last_used IS NULL
                                    THEN ' (never used, created ' || strftime(k.create_date, '%Y-%m-%d') || ')'
                                    ELSE ' (last used ' || strftime(k.last_used, '%Y-%m-%d') || ')' END,
            ', ' ORDER BY k.access_key_id) AS keys
    FROM aws_iam_user_access_keys AS k
    WHERE k.status = 'Active'
      AND COALESCE(k.last_used, k.create_date) < current_timestamp - INTERVAL 90 DAY
    GROUP BY k.user_arn
),
active AS (
    SELECT user_arn, count(*) AS n FROM aws_iam_user_access_keys WHERE status = 'Active' GROUP BY user_arn
)
SELECT
    u.arn AS resource_uid,
    u.user_name AS resource_name,
    u.account_id,
    '' AS region,
    u.tags,
    CASE WHEN s.user_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.user_arn IS NOT NULL THEN 'Active access key(s) unused for 90 days or more: ' || s.keys || '.'
         WHEN a.user_arn IS NOT NULL THEN 'Every active access key of the user was used or created in the last 90 days.'
         ELSE 'The user has no active access key.' END AS detail
FROM aws_iam_users AS u
LEFT JOIN stale_keys AS s ON s.user_arn = u.arn
LEFT JOIN active AS a ON a.user_arn = u.arn
