WITH ownership AS (
    SELECT bucket_arn, string_agg(DISTINCT object_ownership, ', ' ORDER BY object_ownership) AS settings,
           bool_or(object_ownership = 'BucketOwnerEnforced') AS enforced
    FROM aws_s3_bucket_ownership_controls
    WHERE COALESCE(object_ownership, '') <> ''
    GROUP BY bucket_arn
)
SELECT
    b.arn AS resource_uid,
    b.name AS resource_name,
    b.account_id,
    b.region,
    b.tags,
    CASE WHEN COALESCE(o.enforced, FALSE) THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN o.bucket_arn IS NULL
             THEN 'The bucket has no Object Ownership setting, so ACLs are enabled and objects are owned by the account that writes them.'
         WHEN o.enforced THEN 'Object Ownership is BucketOwnerEnforced: ACLs are disabled.'
         ELSE 'Object Ownership is ' || o.settings || ', so ACLs are enabled.' END AS detail
FROM aws_s3_buckets AS b
LEFT JOIN ownership AS o ON o.bucket_arn = b.arn
