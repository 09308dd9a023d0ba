-- Per logging trail: whether it records S3 object-level writes and reads for every bucket.
-- A selector covers S3 objects when it names resources.type AWS::S3::Object and either no ARN
-- prefix (advanced selectors: all buckets) or the prefix of all buckets (`arn:aws:s3`,
-- `arn:aws:s3:::`); an advanced selector narrowed by another field (eventName, resources.ARN of
-- some buckets …) covers only part. readOnly absent means both directions.
WITH selectors AS (
    SELECT
        trail_arn,
        kind,
        selector_index,
        MAX(CASE WHEN field = 'resources.type' AND operator = 'Equals' AND value = 'AWS::S3::Object' THEN 1 ELSE 0 END) AS s3_objects,
        MAX(CASE WHEN field = 'resources.ARN' THEN 1 ELSE 0 END) AS has_arn,
        MAX(CASE WHEN field = 'resources.ARN' AND operator = 'StartsWith'
                      AND value IN ('arn:aws:s3', 'arn:aws:s3:::', 'arn:aws-us-gov:s3:::', 'arn:aws-cn:s3:::') THEN 1 ELSE 0 END) AS all_buckets,
        MAX(CASE WHEN field = 'readOnly' THEN 1 ELSE 0 END) AS has_read_only,
        MAX(CASE WHEN field = 'readOnly' AND ((operator = 'Equals' AND value = 'true') OR (operator = 'NotEquals' AND value = 'false')) THEN 1 ELSE 0 END) AS reads,
        MAX(CASE WHEN field = 'readOnly' AND ((operator = 'Equals' AND value = 'false') OR (operator = 'NotEquals' AND value = 'true')) THEN 1 ELSE 0 END) AS writes,
        MAX(CASE WHEN kind = 'advanced'
                      AND field NOT IN ('eventCategory', 'readOnly', 'resources.type', 'resources.ARN')
                 THEN 1 ELSE 0 END) AS narrowed
    FROM cwpp_aws_cloudtrail_selector_fields
    GROUP BY trail_arn, kind, selector_index
),
covering AS (
    SELECT * FROM selectors
    WHERE s3_objects = 1 AND narrowed = 0 AND (has_arn = 0 OR all_buckets = 1)
)
SELECT
    t.arn AS trail_arn,
    t.name AS trail_name,
    t.account_id,
    COALESCE(CAST(t.status->>'$.IsLogging' AS BOOLEAN), FALSE) AS logging,
    COALESCE(MAX(CASE WHEN c.has_read_only = 0 OR c.writes = 1 THEN 1 ELSE 0 END), 0) = 1 AS s3_writes,
    COALESCE(MAX(CASE WHEN c.has_read_only = 0 OR c.reads = 1 THEN 1 ELSE 0 END), 0) = 1 AS s3_reads
FROM aws_cloudtrail_trails AS t
LEFT JOIN covering AS c ON c.trail_arn = t.arn
GROUP BY t.arn, t.name, t.account_id, t.status
