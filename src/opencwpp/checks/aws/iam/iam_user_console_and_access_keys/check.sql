SELECT
    cr.arn AS resource_uid,
    cr."user" AS resource_name,
    split_part(cr.arn, ':', 5) AS account_id,
    '' AS region,
    CASE WHEN lower(COALESCE(cr.password_enabled, '')) = 'true'
              AND (COALESCE(cr.access_key1_active, FALSE) OR COALESCE(cr.access_key2_active, FALSE))
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN lower(COALESCE(cr.password_enabled, '')) <> 'true'
             THEN 'The user has no console password.'
         WHEN COALESCE(cr.access_key1_active, FALSE) AND COALESCE(cr.access_key2_active, FALSE)
             THEN 'The user has a console password and two active access keys.'
         WHEN COALESCE(cr.access_key1_active, FALSE) OR COALESCE(cr.access_key2_active, FALSE)
             THEN 'The user has a console password and an active access key.'
         ELSE 'The user has a console password and no active access key.' END AS detail
FROM aws_iam_credential_reports AS cr
WHERE cr."user" <> '<root_account>'
