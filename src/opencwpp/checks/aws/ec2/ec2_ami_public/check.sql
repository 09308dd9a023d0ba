-- Judges every AMI the account owns; its launch permission grantees are rows of
-- cwpp_aws_resource_shares (group `all` = public, account / organization / OU ids = shared).
WITH grants AS (
    SELECT
        resource_arn,
        MAX(CASE WHEN grantee_type = 'group' AND grantee = 'all' THEN 1 ELSE 0 END) AS everyone,
        string_agg(DISTINCT grantee, ', ' ORDER BY grantee) FILTER (WHERE grantee_type <> 'group') AS grantees
    FROM cwpp_aws_resource_shares
    WHERE source_table = 'aws_ec2_images' AND attribute = 'launchPermission'
    GROUP BY resource_arn
)
SELECT
    i.arn AS resource_uid,
    COALESCE(NULLIF(i.name, ''), i.image_id) AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN i.public OR g.everyone = 1 THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN i.public OR g.everyone = 1
             THEN 'The AMI is public: any AWS account can launch it and read the data of its snapshots.'
         WHEN g.grantees IS NOT NULL
             THEN 'The AMI is not public; it is shared with: ' || g.grantees || '.'
         ELSE 'The AMI is private to the account.'
    END AS detail
FROM aws_ec2_images AS i
LEFT JOIN grants AS g ON g.resource_arn = i.arn
WHERE i.owner_id IS NULL OR i.owner_id = i.account_id
