WITH pitr AS (
    SELECT b.table_arn, max(upper(COALESCE(b.point_in_time_recovery_description->>'$.PointInTimeRecoveryStatus', ''))) AS status
    FROM aws_dynamodb_table_continuous_backups AS b
    GROUP BY b.table_arn
)
SELECT
    t.arn AS resource_uid,
    t.table_name AS resource_name,
    t.account_id,
    t.region,
    t.tags,
    CASE WHEN p.status = 'ENABLED' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.status = 'ENABLED' THEN 'Point-in-time recovery is enabled.'
         WHEN p.table_arn IS NULL THEN 'No continuous-backups status was recorded for the table, so point-in-time recovery cannot be shown to be on.'
         ELSE 'Point-in-time recovery is ' || COALESCE(NULLIF(p.status, ''), 'not reported') || '.' END AS detail
FROM aws_dynamodb_tables AS t
LEFT JOIN pitr AS p ON p.table_arn = t.arn
