SELECT
    cr.arn AS resource_uid,
    cr."user" AS resource_name,
    split_part(cr.arn, ':', 5) AS account_id,
    '' AS region,
    CASE WHEN lower(COALESCE(cr.password_enabled, '')) = 'true' AND NOT COALESCE(cr.mfa_active, FALSE)
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN lower(COALESCE(cr.password_enabled, '')) <> 'true' THEN 'The user has no console password.'
         WHEN COALESCE(cr.mfa_active, FALSE) THEN 'The user has a console password and an active MFA device.'
         ELSE 'The user has a console password but no active MFA device.' END AS detail
FROM aws_iam_credential_reports AS cr
WHERE cr."user" <> '<root_account>'
