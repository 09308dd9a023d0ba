WITH everyone AS (
    -- Allow statements of bucket policies whose principal is everyone.
    SELECT DISTINCT s._cq_id AS statement_id, s.source_arn, s.statement_index, s.sid
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_values AS v ON v.statement_id = s._cq_id
    WHERE s.source_table = 'aws_s3_bucket_policies'
      AND s.effect = 'Allow'
      AND (
          (v.element = 'Principal' AND v.principal_type = '*')
          OR (v.element = 'Principal' AND v.principal_type = 'AWS' AND v.value LIKE '%*%' ESCAPE '\')
          OR v.element = 'NotPrincipal'
      )
),
restricting AS (
    -- Conditions that pin the caller to fixed values (S3's "meaning of public").
    SELECT DISTINCT c.statement_id
    FROM cwpp_aws_policy_statement_conditions AS c
    WHERE c.condition_key IN (
              'aws:sourceip', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourcearn',
              'aws:sourceaccount', 'aws:sourceowner', 'aws:sourceorgid', 'aws:sourceorgpaths',
              'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount',
              'aws:principalarn', 'aws:userid', 's3:x-amz-server-side-encryption-aws-kms-key-id'
          )
      AND lower(c.operator) NOT LIKE '%not%' ESCAPE '\'
      AND lower(c.operator) NOT LIKE '%ifexists' ESCAPE '\'
      AND lower(c.operator) NOT LIKE 'forallvalues:%' ESCAPE '\'
      AND lower(c.operator) NOT LIKE 'null' ESCAPE '\'
      AND c.value NOT LIKE '%*%' ESCAPE '\'
      AND c.value NOT LIKE '%?%' ESCAPE '\'
      AND c.value <> ''
      AND NOT (
          c.condition_key = 'aws:sourceip'
          AND CASE WHEN c.value LIKE '%/%' ESCAPE '\'
                   THEN CAST(split_part(c.value, '/', 2) AS INTEGER) < 8
                   ELSE FALSE END
      )
),
public_statements AS (
    SELECT
        e.source_arn,
        string_agg(
            COALESCE('"' || NULLIF(e.sid, '') || '"', '#' || CAST(e.statement_index AS VARCHAR)),
            ', ' ORDER BY e.statement_index
        ) AS labels
    FROM everyone AS e
    LEFT JOIN restricting AS r ON r.statement_id = e.statement_id
    WHERE r.statement_id IS NULL
    GROUP BY e.source_arn
),
judged AS (
    SELECT
        b.arn, b.name, b.account_id, b.region, b.tags,
        p.labels,
        COALESCE(CAST(b.policy_status->>'$.IsPublic' AS BOOLEAN), FALSE) AS aws_says_public,
        COALESCE(CAST(bpab.public_access_block_configuration->>'$.RestrictPublicBuckets' AS BOOLEAN), FALSE)
            OR COALESCE(acct.restrict_public_buckets, FALSE) AS restricted
    FROM aws_s3_buckets AS b
    LEFT JOIN public_statements AS p ON p.source_arn = b.arn
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
