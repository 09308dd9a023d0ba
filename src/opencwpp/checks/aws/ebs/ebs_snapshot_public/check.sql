-- createVolumePermission is a JSON array of {Group, UserId}: the check matches the group `all`
-- in its text instead of walking the array (any key order and spacing, both backends).
SELECT
    a.snapshot_arn AS resource_uid,
    COALESCE(s.snapshot_id, a.snapshot_id) AS resource_name,
    a.account_id,
    a.region,
    s.tags,
    CASE WHEN regexp_matches(CAST(a.create_volume_permissions AS VARCHAR), '"Group"\s*:\s*"all"')
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN regexp_matches(CAST(a.create_volume_permissions AS VARCHAR), '"Group"\s*:\s*"all"')
             THEN 'The snapshot''s createVolumePermission includes the group "all": any AWS account can create a volume from it.'
         WHEN regexp_matches(CAST(a.create_volume_permissions AS VARCHAR), '"UserId"\s*:\s*"')
             THEN 'The snapshot is not public; it is shared with specific AWS account(s).'
         ELSE 'The snapshot is not public and not shared with other accounts.'
    END AS detail
FROM aws_ec2_ebs_snapshot_attributes AS a
LEFT JOIN aws_ec2_ebs_snapshots AS s ON s.arn = a.snapshot_arn
