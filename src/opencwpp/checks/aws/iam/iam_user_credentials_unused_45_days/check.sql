WITH creds AS (
    SELECT
        cr.arn,
        cr."user" AS user_name,
        CASE WHEN lower(COALESCE(cr.password_enabled, '')) = 'true'
             THEN COALESCE(cr.password_last_used, cr.password_last_changed, cr.user_creation_time) END AS password_seen,
        CASE WHEN COALESCE(cr.access_key1_active, FALSE)
             THEN COALESCE(cr.access_key_1_last_used_date, cr.access_key_1_last_rotated, cr.user_creation_time) END AS key1_seen,
        CASE WHEN COALESCE(cr.access_key2_active, FALSE)
             THEN COALESCE(cr.access_key_2_last_used_date, cr.access_key_2_last_rotated, cr.user_creation_time) END AS key2_seen
    FROM aws_iam_credential_reports AS cr
    WHERE cr."user" <> '<root_account>'
),
judged AS (
    SELECT
        arn, user_name,
        concat_ws('; ',
            CASE WHEN password_seen < current_timestamp - INTERVAL 45 DAY
                 THEN 'console password last used or set on ' || strftime(password_seen, '%Y-%m-%d') END,
            CASE WHEN key1_seen < current_timestamp - INTERVAL 45 DAY
                 THEN 'access key 1 last used or rotated on ' || strftime(key1_seen, '%Y-%m-%d') END,
            CASE WHEN key2_seen < current_timestamp - INTERVAL 45 DAY
                 THEN 'access key 2 last used or rotated on ' || strftime(key2_seen, '%Y-%m-%d') END
        ) AS stale,
        password_seen IS NOT NULL OR key1_seen IS NOT NULL OR key2_seen IS NOT NULL AS has_credentials
    FROM creds
)
SELECT
    arn AS resource_uid,
    user_name AS resource_name,
    split_part(arn, ':', 5) AS account_id,
    '' AS region,
    CASE WHEN stale <> '' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN stale <> '' THEN 'Unused for 45 days or more: ' || stale || '.'
         WHEN has_credentials THEN 'Every enabled credential of the user was used or issued in the last 45 days.'
         ELSE 'The user has no console password and no active access key.' END AS detail
FROM judged
