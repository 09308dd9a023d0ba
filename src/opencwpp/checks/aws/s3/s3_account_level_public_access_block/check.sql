WITH accounts AS (
    SELECT account_id FROM aws_s3_accounts WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_s3_buckets WHERE account_id IS NOT NULL
),
settings AS (
    SELECT
        x.account_id,
        a.account_id IS NOT NULL AND COALESCE(a.config_exists, TRUE) AS has_config,
        COALESCE(a.block_public_acls, FALSE) AS block_public_acls,
        COALESCE(a.ignore_public_acls, FALSE) AS ignore_public_acls,
        COALESCE(a.block_public_policy, FALSE) AS block_public_policy,
        COALESCE(a.restrict_public_buckets, FALSE) AS restrict_public_buckets
    FROM accounts AS x
    LEFT JOIN aws_s3_accounts AS a ON a.account_id = x.account_id
)
SELECT
    'arn:aws:s3::' || account_id || ':account' AS resource_uid,
    account_id AS resource_name,
    account_id,
    '' AS region,
    CASE WHEN has_config AND block_public_acls AND ignore_public_acls AND block_public_policy AND restrict_public_buckets
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN NOT has_config
             THEN 'The account has no S3 Block Public Access configuration.'
         WHEN block_public_acls AND ignore_public_acls AND block_public_policy AND restrict_public_buckets
             THEN 'All four account-level Block Public Access settings are on.'
         ELSE 'Account-level Block Public Access setting(s) off: '
              || concat_ws(', ',
                     CASE WHEN NOT block_public_acls THEN 'BlockPublicAcls' END,
                     CASE WHEN NOT ignore_public_acls THEN 'IgnorePublicAcls' END,
                     CASE WHEN NOT block_public_policy THEN 'BlockPublicPolicy' END,
                     CASE WHEN NOT restrict_public_buckets THEN 'RestrictPublicBuckets' END)
              || '.' END AS detail
FROM settings
