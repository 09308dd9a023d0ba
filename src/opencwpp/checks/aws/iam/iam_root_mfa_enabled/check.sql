SELECT
    cr.arn AS resource_uid,
    'root' AS resource_name,
    split_part(cr.arn, ':', 5) AS account_id,
    '' AS region,
    CASE WHEN COALESCE(cr.mfa_active, FALSE) THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN COALESCE(cr.mfa_active, FALSE) THEN 'The root user has an active MFA device.'
         ELSE 'The root user has no active MFA device (credential report mfa_active is false).' END AS detail
FROM aws_iam_credential_reports AS cr
WHERE cr."user" = '<root_account>'
