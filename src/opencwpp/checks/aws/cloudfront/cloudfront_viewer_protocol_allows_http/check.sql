-- Cache behaviors are rows (index 0 = the default behavior). A behavior whose viewer protocol
-- policy is not redirect-to-https or https-only serves plain HTTP.
WITH per_distribution AS (
    SELECT
        b.distribution_arn,
        string_agg(
            CASE WHEN COALESCE(lower(b.viewer_protocol_policy), '') NOT IN ('redirect-to-https', 'https-only')
                 THEN COALESCE(b.path_pattern, 'Default (*)') || ' (' || COALESCE(b.viewer_protocol_policy, 'not reported') || ')'
            END,
            ', ' ORDER BY b.behavior_index
        ) AS open_behaviors
    FROM cwpp_aws_cloudfront_distribution_cache_behaviors AS b
    GROUP BY b.distribution_arn
)
SELECT
    d.arn AS resource_uid,
    COALESCE(d.domain_name, d.id) AS resource_name,
    d.account_id,
    '' AS region,
    d.tags,
    CASE WHEN p.distribution_arn IS NULL OR p.open_behaviors IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.distribution_arn IS NULL
             THEN 'No cache behavior was recorded for this distribution, so HTTPS is not known to be required.'
         WHEN p.open_behaviors IS NOT NULL
             THEN 'Cache behavior(s) serving viewers over plain HTTP: ' || p.open_behaviors || '.'
         ELSE 'Every cache behavior redirects HTTP to HTTPS or accepts HTTPS only.' END AS detail
FROM aws_cloudfront_distributions AS d
LEFT JOIN per_distribution AS p ON p.distribution_arn = d.arn
