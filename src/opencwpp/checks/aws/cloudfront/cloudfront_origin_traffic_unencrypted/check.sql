-- Custom origins only: S3 (REST) and VPC origins are not judged here. match-viewer uses HTTP
-- towards the origin whenever a viewer used HTTP, which an allow-all behavior permits.
WITH plain_viewers AS (
    SELECT DISTINCT b.distribution_arn
    FROM cwpp_aws_cloudfront_distribution_cache_behaviors AS b
    WHERE COALESCE(lower(b.viewer_protocol_policy), '') NOT IN ('redirect-to-https', 'https-only')
),
plain_origins AS (
    SELECT
        o.distribution_arn,
        string_agg(
            o.origin_id || ' (' || COALESCE(o.domain_name, '?') || ', ' || COALESCE(o.origin_protocol_policy, 'not reported') || ')',
            ', ' ORDER BY o.origin_id
        ) AS origins
    FROM cwpp_aws_cloudfront_distribution_origins AS o
    LEFT JOIN plain_viewers AS v ON v.distribution_arn = o.distribution_arn
    WHERE o.origin_type = 'custom'
      AND (
          COALESCE(lower(o.origin_protocol_policy), '') NOT IN ('https-only', 'match-viewer')
          OR (lower(o.origin_protocol_policy) = 'match-viewer' AND v.distribution_arn IS NOT NULL)
      )
    GROUP BY o.distribution_arn
),
custom AS (
    SELECT distribution_arn, count(*) AS n
    FROM cwpp_aws_cloudfront_distribution_origins
    WHERE origin_type = 'custom'
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
             THEN 'Custom origin(s) reached over plain HTTP: ' || p.origins || '.'
         WHEN c.distribution_arn IS NULL
             THEN 'The distribution has no custom origin (S3 and VPC origins are not judged here).'
         ELSE 'Every custom origin is reached over HTTPS (https-only, or match-viewer with HTTPS-only viewers).' END AS detail
FROM aws_cloudfront_distributions AS d
LEFT JOIN plain_origins AS p ON p.distribution_arn = d.arn
LEFT JOIN custom AS c ON c.distribution_arn = d.arn
