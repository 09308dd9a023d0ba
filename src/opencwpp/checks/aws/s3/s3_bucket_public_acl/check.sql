-- What makes a bucket public is judged once, in the shared view (checks/views/).
SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN v.public_by_acl THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN v.acl_permissions IS NULL THEN 'The bucket ACL has no public grant.'
         WHEN v.ignores_public_acls
         THEN 'The ACL grants ' || v.acl_permissions || ' publicly, but the public access block ignores public ACLs.'
         ELSE 'The ACL grants ' || v.acl_permissions || ' to everyone or to any AWS user.' END AS detail
FROM aws_s3_buckets AS b
JOIN cwpp_aws_s3_public_buckets AS v ON v.bucket_arn = b.arn
