-- Every bucket with what makes it public, after the bucket's and the account's public access
-- blocks: one row per bucket. Shared by the S3 public checks and by checks on buckets that hold
-- something sensitive (CloudTrail logs).
WITH public_grants AS (
    SELECT g.bucket_arn, string_agg(DISTINCT g.permission, ', ' ORDER BY g.permission) AS acl_permissions
    FROM aws_s3_bucket_grants AS g
    WHERE g.grantee_type = 'Group'
      AND g.grantee_id IN (
          'http://acs.amazonaws.com/groups/global/AllUsers',
          'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'
      )
    GROUP BY g.bucket_arn
),
judged AS (
    SELECT
        b.arn AS bucket_arn,
        b.name AS bucket_name,
        b.account_id,
        g.acl_permissions,
        p.labels AS policy_statements,
        COALESCE(CAST(b.policy_status->>'$.IsPublic' AS BOOLEAN), FALSE) AS policy_status_public,
        COALESCE(CAST(bpab.public_access_block_configuration->>'$.IgnorePublicAcls' AS BOOLEAN), FALSE)
            OR COALESCE(acct.ignore_public_acls, FALSE) AS ignores_public_acls,
        COALESCE(CAST(bpab.public_access_block_configuration->>'$.RestrictPublicBuckets' AS BOOLEAN), FALSE)
            OR COALESCE(acct.restrict_public_buckets, FALSE) AS restricts_public_policy
    FROM aws_s3_buckets AS b
    LEFT JOIN public_grants AS g ON g.bucket_arn = b.arn
    LEFT JOIN cwpp_aws_public_policy_statements AS p
        ON p.source_table = 'aws_s3_bucket_policies' AND p.source_arn = b.arn
    LEFT JOIN aws_s3_bucket_public_access_blocks AS bpab ON bpab.bucket_arn = b.arn
    LEFT JOIN aws_s3_accounts AS acct ON acct.account_id = b.account_id
)
SELECT
    *,
    acl_permissions IS NOT NULL AND NOT ignores_public_acls AS public_by_acl,
    (policy_statements IS NOT NULL OR policy_status_public) AND NOT restricts_public_policy AS public_by_policy
FROM judged
