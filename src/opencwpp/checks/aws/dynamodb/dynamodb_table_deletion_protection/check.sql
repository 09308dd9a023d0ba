SELECT
    t.arn AS resource_uid,
    t.table_name AS resource_name,
    t.account_id,
    t.region,
    t.tags,
    CASE WHEN t.deletion_protection_enabled THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN t.deletion_protection_enabled THEN 'Deletion protection is enabled.'
         ELSE 'Deletion protection is off: one DeleteTable call removes the table.' END AS detail
FROM aws_dynamodb_tables AS t
