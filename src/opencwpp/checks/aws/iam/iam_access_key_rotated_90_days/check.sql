WITH old_keys AS (
    SELECT
        k.user_arn,
        string_agg(k.access_key_id || ' (' || CAST(date_diff('day', k.create_date, current_timestamp) AS VARCHAR) || ' days)',
                   ', ' ORDER BY k.access_key_id) AS keys
    FROM aws_iam_user_access_keys AS k
    WHERE k.status = 'Active'
      AND k.create_date < current_timestamp - INTERVAL 90 DAY
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
    CASE WHEN o.user_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN o.user_arn IS NOT NULL THEN 'Active access key(s) created more than 90 days ago: ' || o.keys || '.'
         WHEN a.user_arn IS NOT NULL THEN 'Every active access key of the user was created in the last 90 days.'
         ELSE 'The user has no active access key.' END AS detail
FROM aws_iam_users AS u
LEFT JOIN old_keys AS o ON o.user_arn = u.arn
LEFT JOIN active AS a ON a.user_arn = u.arn
