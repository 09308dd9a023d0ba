-- Public statements come from the shared view (checks/views/), which knows the principals
-- that mean everyone and the conditions that restrict the caller.
WITH judged AS (
    SELECT
        b.arn, b.name, b.account_id, b.region, b.tags,
        p.labels,
        COALESCE(CAST(b.policy_status->>'$.IsPublic' AS BOOLEAN), FALSE) AS aws_says_public,
        COALESCE(CAST(bpab.public_access_block_configuration->>'$.RestrictPublicBuckets' AS BOOLEAN), FALSE)
            OR COALESCE(acct.restrict_public_buckets, FALSE) AS restricted
    FROM aws_s3_buckets AS b
    LEFT JOIN cwpp_aws_public_policy_statements AS p
        ON p.source_table = 'aws_s3_bucket_policies' AND p.source_arn = b.arn
    LEFT JOIN aws_s3_bucket_public_access_blocks AS bpab ON bpab.bucket_arn = b.arn
    LEFT JOIN aws_s3_accounts AS acct ON acct.account_id = b.account_id
)
SELECT
    arn AS resource_uid,
    name AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN (labels IS NOT NULL OR aws_says_public) AND NOT restricted THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE
        WHEN labels IS NULL AND NOT aws_says_public
            THEN 'The bucket policy has no Allow statement for everyone without a restricting condition.'
        WHEN restricted AND labels IS NOT NULL
            THEN 'Bucket policy statement(s) ' || labels || ' allow everyone, but RestrictPublicBuckets limits access to the owner account and AWS services.'
        WHEN restricted
            THEN 'S3 reports the bucket policy as public, but RestrictPublicBuckets limits access to the owner account and AWS services.'
        WHEN labels IS NOT NULL
            THEN 'Bucket policy statement(s) ' || labels || ' allow everyone (a wildcard principal or NotPrincipal) without a condition that restricts the caller.'
        ELSE 'S3 reports the bucket policy as public (GetBucketPolicyStatus IsPublic is true).'
    END AS detail
FROM judged
