SELECT
    cr.arn AS resource_uid,
    'root' AS resource_name,
    split_part(cr.arn, ':', 5) AS account_id,
    '' AS region,
    CASE WHEN COALESCE(cr.access_key1_active, FALSE) OR COALESCE(cr.access_key2_active, FALSE)
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(cr.access_key1_active, FALSE) AND COALESCE(cr.access_key2_active, FALSE)
             THEN 'The root user has two active access keys.'
         WHEN COALESCE(cr.access_key1_active, FALSE) OR COALESCE(cr.access_key2_active, FALSE)
             THEN 'The root user has an active access key (key '
                  || CASE WHEN COALESCE(cr.access_key1_active, FALSE) THEN '1' ELSE '2' END || ').'
         ELSE 'The root user has no active access key.' END AS detail
FROM aws_iam_credential_reports AS cr
WHERE cr."user" = '<root_account>'
