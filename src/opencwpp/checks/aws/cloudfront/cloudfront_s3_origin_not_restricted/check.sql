-- S3 REST origins without OAC or OAI only work when the bucket is readable by anyone; an S3
-- website endpoint (a custom origin) is public by construction.
WITH open_origins AS (
    SELECT
        o.distribution_arn,
        string_agg(
            o.origin_id || ' (' || COALESCE(o.domain_name, '?') || ', '
            || CASE WHEN o.origin_type = 's3' THEN 'no origin access control or identity'
                    ELSE 'S3 website endpoint' END || ')',
            ', ' ORDER BY o.origin_id
        ) AS origins
    FROM cwpp_aws_cloudfront_distribution_origins AS o
    WHERE (o.origin_type = 's3' AND o.origin_access_control_id IS NULL AND o.origin_access_identity IS NULL)
       OR (o.origin_type = 'custom'
           AND (lower(o.domain_name) LIKE '%.s3-website-%.amazonaws.com' ESCAPE '\'
                OR lower(o.domain_name) LIKE '%.s3-website.%.amazonaws.com' ESCAPE '\'))
    GROUP BY o.distribution_arn
),
bucket_origins AS (
    SELECT
        distribution_arn,
        count(*) FILTER (WHERE origin_access_control_id IS NULL AND origin_access_identity IS NOT NULL) AS legacy
    FROM cwpp_aws_cloudfront_distribution_origins
    WHERE origin_type = 's3'
       OR lower(domain_name) LIKE '%.s3-website%' ESCAPE '\'
    GROUP BY distribution_arn
)
SELECT
    d.arn AS resource_uid,
    COALESCE(d.domain_name, d.id) AS resource_name,
    d.account_id,
    '' AS region,
    d.tags,
    CASE WHEN p.distribution_arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.distribution_arn IS NOT NULL
             THEN 'S3 origin(s) whose bucket must be publicly readable for the distribution to work: ' || p.origins || '.'
         WHEN b.legacy > 0
             THEN 'Every S3 origin is restricted to CloudFront; ' || CAST(b.legacy AS VARCHAR) || ' still use a legacy origin access identity (OAC is recommended).'
         ELSE 'Every S3 origin is reached through origin access control.' END AS detail
FROM aws_cloudfront_distributions AS d
JOIN bucket_origins AS b ON b.distribution_arn = d.arn
LEFT JOIN open_origins AS p ON p.distribution_arn = d.arn
