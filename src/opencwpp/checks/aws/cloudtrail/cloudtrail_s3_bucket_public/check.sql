-- The buckets trails deliver to that are in the lake (a bucket in an account that was not
-- synced, such as an organization's log archive, is not judged here).
WITH trail_buckets AS (
    SELECT s3_bucket_name, string_agg(DISTINCT name, ', ' ORDER BY name) AS trails
    FROM aws_cloudtrail_trails
    WHERE COALESCE(s3_bucket_name, '') <> ''
    GROUP BY s3_bucket_name
)
SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN v.public_by_acl OR v.public_by_policy THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN v.public_by_acl AND v.public_by_policy
             THEN 'The bucket holding the logs of trail(s) ' || t.trails || ' is public through its ACL (' || v.acl_permissions || ') and its policy.'
         WHEN v.public_by_acl
             THEN 'The bucket holding the logs of trail(s) ' || t.trails || ' is public through its ACL (' || v.acl_permissions || ').'
         WHEN v.public_by_policy
             THEN 'The bucket holding the logs of trail(s) ' || t.trails || ' is public through its bucket policy'
                  || COALESCE(' (statements ' || v.policy_statements || ')', '') || '.'
         ELSE 'The bucket holding the logs of trail(s) ' || t.trails || ' is not public.'
    END AS detail
FROM trail_buckets AS t
JOIN aws_s3_buckets AS b ON b.name = t.s3_bucket_name
JOIN cwpp_aws_s3_public_buckets AS v ON v.bucket_arn = b.arn
