WITH effective AS (
    SELECT
        b.arn, b.name, b.account_id, b.region, b.tags,
        COALESCE(CAST(p.public_access_block_configuration->>'$.BlockPublicAcls' AS BOOLEAN), FALSE)
            OR COALESCE(a.block_public_acls, FALSE) AS block_public_acls,
        COALESCE(CAST(p.public_access_block_configuration->>'$.IgnorePublicAcls' AS BOOLEAN), FALSE)
            OR COALESCE(a.ignore_public_acls, FALSE) AS ignore_public_acls,
        COALESCE(CAST(p.public_access_block_configuration->>'$.BlockPublicPolicy' AS BOOLEAN), FALSE)
            OR COALESCE(a.block_public_policy, FALSE) AS block_public_policy,
        COALESCE(CAST(p.public_access_block_configuration->>'$.RestrictPublicBuckets' AS BOOLEAN), FALSE)
            OR COALESCE(a.restrict_public_buckets, FALSE) AS restrict_public_buckets
    FROM aws_s3_buckets AS b
    LEFT JOIN aws_s3_bucket_public_access_blocks AS p ON p.bucket_arn = b.arn
    LEFT JOIN aws_s3_accounts AS a ON a.account_id = b.account_id
)
SELECT
    arn AS resource_uid,
    name AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN block_public_acls AND ignore_public_acls AND block_public_policy AND restrict_public_buckets
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN block_public_acls AND ignore_public_acls AND block_public_policy AND restrict_public_buckets
         THEN 'All four Block Public Access settings are on for the bucket or its account.'
         ELSE 'Block Public Access setting(s) off at both the bucket and the account level: '
              || concat_ws(', ',
                     CASE WHEN NOT block_public_acls THEN 'BlockPublicAcls' END,
                     CASE WHEN NOT ignore_public_acls THEN 'IgnorePublicAcls' END,
                     CASE WHEN NOT block_public_policy THEN 'BlockPublicPolicy' END,
                     CASE WHEN NOT restrict_public_buckets THEN 'RestrictPublicBuckets' END)
              || '.' END AS detail
FROM effective
