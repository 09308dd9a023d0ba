-- Judges every snapshot whose createVolumePermission was collected; its grantees are rows of
-- cwpp_aws_resource_shares (group `all` = public, account ids = shared).
WITH grants AS (
    SELECT
        resource_arn,
        MAX(CASE WHEN grantee_type = 'group' AND grantee = 'all' THEN 1 ELSE 0 END) AS public,
        string_agg(DISTINCT grantee, ', ' ORDER BY grantee) FILTER (WHERE grantee_type = 'account') AS accounts
    FROM cwpp_aws_resource_shares
    WHERE source_table = 'aws_ec2_ebs_snapshots' AND attribute = 'createVolumePermission'
    GROUP BY resource_arn
)
SELECT
    a.snapshot_arn AS resource_uid,
    COALESCE(s.snapshot_id, a.snapshot_id) AS resource_name,
    a.account_id,
    a.region,
    s.tags,
    CASE WHEN g.public = 1 THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN g.public = 1
             THEN 'The snapshot''s createVolumePermission includes the group "all": any AWS account can create a volume from it.'
         WHEN g.accounts IS NOT NULL
             THEN 'The snapshot is not public; it is shared with specific AWS account(s): ' || g.accounts || '.'
         ELSE 'The snapshot is not public and not shared with other accounts.'
    END AS detail
FROM aws_ec2_ebs_snapshot_attributes AS a
LEFT JOIN aws_ec2_ebs_snapshots AS s ON s.arn = a.snapshot_arn
LEFT JOIN grants AS g ON g.resource_arn = a.snapshot_arn
