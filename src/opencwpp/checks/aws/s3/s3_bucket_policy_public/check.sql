-- What makes a bucket public is judged once, in the shared views (checks/views/): the public
-- statements know the principals that mean everyone and the conditions that restrict the caller.
SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN v.public_by_policy THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE
        WHEN v.policy_statements IS NULL AND NOT v.policy_status_public
            THEN 'The bucket policy has no Allow statement for everyone without a restricting condition.'
        WHEN v.restricts_public_policy AND v.policy_statements IS NOT NULL
            THEN 'Bucket policy statement(s) ' || v.policy_statements || ' allow everyone, but RestrictPublicBuckets limits access to the owner account and AWS services.'
        WHEN v.restricts_public_policy
            THEN 'S3 reports the bucket policy as public, but RestrictPublicBuckets limits access to the owner account and AWS services.'
        WHEN v.policy_statements IS NOT NULL
            THEN 'Bucket policy statement(s) ' || v.policy_statements || ' allow everyone (a wildcard principal or NotPrincipal) without a condition that restricts the caller.'
        ELSE 'S3 reports the bucket policy as public (GetBucketPolicyStatus IsPublic is true).'
    END AS detail
FROM aws_s3_buckets AS b
JOIN cwpp_aws_s3_public_buckets AS v ON v.bucket_arn = b.arn
