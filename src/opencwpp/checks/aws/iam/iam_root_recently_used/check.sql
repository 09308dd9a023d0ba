WITH root AS (
    SELECT
        cr.arn,
        greatest(cr.password_last_used, cr.access_key_1_last_used_date, cr.access_key_2_last_used_date) AS last_used
    FROM aws_iam_credential_reports AS cr
    WHERE cr."user" = '<root_account>'
)
SELECT
    arn AS resource_uid,
    'root' AS resource_name,
    split_part(arn, ':', 5) AS account_id,
    '' AS region,
    CASE WHEN last_used > current_timestamp - INTERVAL 30 DAY THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN last_used IS NULL THEN 'The root user has no recorded use of its password or access keys.'
         WHEN last_used > current_timestamp - INTERVAL 30 DAY
             THEN 'The root user was last used on ' || strftime(last_used, '%Y-%m-%d %H:%M') || ' UTC, less than 30 days ago.'
         ELSE 'The root user was last used on ' || strftime(last_used, '%Y-%m-%d') || ', more than 30 days ago.' END AS detail
FROM root
