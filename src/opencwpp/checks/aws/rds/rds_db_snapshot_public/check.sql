-- Judges every snapshot whose attributes were collected; the restore attribute's values are rows
-- of cwpp_aws_resource_shares (group `all` = public, account ids = shared).
WITH grants AS (
    SELECT
        resource_arn,
        MAX(CASE WHEN grantee_type = 'group' AND grantee = 'all' THEN 1 ELSE 0 END) AS public,
        string_agg(DISTINCT grantee, ', ' ORDER BY grantee) FILTER (WHERE grantee_type = 'account') AS accounts
    FROM cwpp_aws_resource_shares
    WHERE source_table = 'aws_rds_db_snapshots' AND attribute = 'restore'
    GROUP BY resource_arn
)
SELECT
    s.arn AS resource_uid,
    s.db_snapshot_identifier AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN g.public = 1 THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN g.public = 1
             THEN 'The snapshot''s restore attribute includes "all": any AWS account can copy or restore it.'
         WHEN g.accounts IS NOT NULL
             THEN 'The snapshot is not public; it is shared with specific AWS account(s): ' || g.accounts || '.'
         ELSE 'The snapshot is not public and not shared with other accounts.'
    END AS detail
FROM aws_rds_db_snapshots AS s
LEFT JOIN grants AS g ON g.resource_arn = s.arn
WHERE s.attributes IS NOT NULL
