-- The estate = the accounts the lake knows: aws_iam_accounts and the owners of collected
-- snapshots (cwpp_sync_scopes is not a catalog table yet). Grantees are rows of
-- cwpp_aws_resource_shares; the public group `all` is ebs_snapshot_public's concern.
WITH estate AS (
    SELECT account_id FROM aws_iam_accounts WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_ec2_ebs_snapshots WHERE account_id IS NOT NULL
    UNION
    SELECT owner_id FROM aws_ec2_ebs_snapshots WHERE owner_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_ec2_ebs_snapshot_attributes WHERE account_id IS NOT NULL
),
grants AS (
    SELECT
        r.resource_arn,
        string_agg(DISTINCT r.grantee, ', ' ORDER BY r.grantee) FILTER (WHERE e.account_id IS NULL) AS outside,
        string_agg(DISTINCT r.grantee, ', ' ORDER BY r.grantee) FILTER (WHERE e.account_id IS NOT NULL) AS inside
    FROM cwpp_aws_resource_shares AS r
    LEFT JOIN estate AS e ON e.account_id = r.grantee
    WHERE r.source_table = 'aws_ec2_ebs_snapshots'
      AND r.attribute = 'createVolumePermission'
      AND r.grantee_type = 'account'
    GROUP BY r.resource_arn
)
SELECT
    a.snapshot_arn AS resource_uid,
    COALESCE(s.snapshot_id, a.snapshot_id) AS resource_name,
    a.account_id,
    a.region,
    s.tags,
    CASE WHEN g.outside IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN g.outside IS NOT NULL
             THEN 'The snapshot is shared with AWS account(s) outside the accounts in the lake: ' || g.outside || '.'
         WHEN g.inside IS NOT NULL
             THEN 'The snapshot is shared only with accounts in the lake: ' || g.inside || '.'
         ELSE 'The snapshot is not shared with specific AWS accounts.'
    END AS detail
FROM aws_ec2_ebs_snapshot_attributes AS a
LEFT JOIN aws_ec2_ebs_snapshots AS s ON s.arn = a.snapshot_arn
LEFT JOIN grants AS g ON g.resource_arn = a.snapshot_arn
