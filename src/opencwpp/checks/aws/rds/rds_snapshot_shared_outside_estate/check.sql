-- DB and cluster snapshots whose attributes were collected. The estate = the accounts the lake
-- knows: aws_iam_accounts and the owners of collected RDS snapshots (cwpp_sync_scopes is not a
-- catalog table yet). The public value `all` is the *_snapshot_public checks' concern.
WITH snapshots AS (
    SELECT arn, db_snapshot_identifier AS name, account_id, region, tags, 'aws_rds_db_snapshots' AS source_table
    FROM aws_rds_db_snapshots
    WHERE attributes IS NOT NULL
    UNION ALL
    SELECT arn, db_cluster_snapshot_identifier, account_id, region, tags, 'aws_rds_cluster_snapshots'
    FROM aws_rds_cluster_snapshots
    WHERE attributes IS NOT NULL
),
estate AS (
    SELECT account_id FROM aws_iam_accounts WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_rds_db_snapshots WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_rds_cluster_snapshots WHERE account_id IS NOT NULL
),
grants AS (
    SELECT
        r.source_table,
        r.resource_arn,
        string_agg(DISTINCT r.grantee, ', ' ORDER BY r.grantee) FILTER (WHERE e.account_id IS NULL) AS outside,
        string_agg(DISTINCT r.grantee, ', ' ORDER BY r.grantee) FILTER (WHERE e.account_id IS NOT NULL) AS inside
    FROM cwpp_aws_resource_shares AS r
    LEFT JOIN estate AS e ON e.account_id = r.grantee
    WHERE r.source_table IN ('aws_rds_db_snapshots', 'aws_rds_cluster_snapshots')
      AND r.attribute = 'restore'
      AND r.grantee_type = 'account'
    GROUP BY r.source_table, r.resource_arn
)
SELECT
    s.arn AS resource_uid,
    s.name AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN g.outside IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN g.outside IS NOT NULL
             THEN 'The snapshot can be restored by AWS account(s) outside the accounts in the lake: ' || g.outside || '.'
         WHEN g.inside IS NOT NULL
             THEN 'The snapshot is shared only with accounts in the lake: ' || g.inside || '.'
         ELSE 'The snapshot is not shared with specific AWS accounts.'
    END AS detail
FROM snapshots AS s
LEFT JOIN grants AS g ON g.resource_arn = s.arn AND g.source_table = s.source_table
