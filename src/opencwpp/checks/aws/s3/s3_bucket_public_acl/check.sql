WITH public_grants AS (
    SELECT g.bucket_arn, string_agg(DISTINCT g.permission, ', ' ORDER BY g.permission) AS permissions
    FROM aws_s3_bucket_grants AS g
    WHERE g.grantee_type = 'Group'
      AND g.grantee_id IN (
          'http://acs.amazonaws.com/groups/global/AllUsers',
          'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'
      )
    GROUP BY g.bucket_arn
)
SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN p.bucket_arn IS NOT NULL
              AND NOT COALESCE(CAST(bpab.public_access_block_configuration->>'$.IgnorePublicAcls' AS BOOLEAN), FALSE)
              AND NOT COALESCE(acct.ignore_public_acls, FALSE)
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.bucket_arn IS NULL THEN 'The bucket ACL has no public grant.'
         WHEN COALESCE(CAST(bpab.public_access_block_configuration->>'$.IgnorePublicAcls' AS BOOLEAN), FALSE)
              OR COALESCE(acct.ignore_public_acls, FALSE)
         THEN 'The ACL grants ' || p.permissions || ' publicly, but the public access block ignores public ACLs.'
         ELSE 'The ACL grants ' || p.permissions || ' to everyone or to any AWS user.' END AS detail
FROM aws_s3_buckets AS b
LEFT JOIN public_grants AS p ON p.bucket_arn = b.arn
LEFT JOIN aws_s3_bucket_public_access_blocks AS bpab ON bpab.bucket_arn = b.arn
LEFT JOIN aws_s3_accounts AS acct ON acct.account_id = b.account_id
