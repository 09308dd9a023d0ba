-- Stages with a cache cluster only; a method caches when its setting (or the stage-wide '*/*'
-- setting it inherits) has caching enabled.
WITH unencrypted AS (
    SELECT
        m.stage_arn,
        string_agg(m.method_path, ', ' ORDER BY m.method_path) AS paths
    FROM cwpp_aws_apigateway_rest_api_stage_method_settings AS m
    WHERE COALESCE(m.caching_enabled, FALSE) AND NOT COALESCE(m.cache_data_encrypted, FALSE)
    GROUP BY m.stage_arn
),
caching AS (
    SELECT DISTINCT stage_arn
    FROM cwpp_aws_apigateway_rest_api_stage_method_settings
    WHERE COALESCE(caching_enabled, FALSE)
)
SELECT
    s.arn AS resource_uid,
    COALESCE(a.name, a.id, s.rest_api_arn) || ' / ' || s.stage_name AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN u.stage_arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN u.stage_arn IS NOT NULL
             THEN 'Responses are cached unencrypted for method setting(s): ' || u.paths || '.'
         WHEN c.stage_arn IS NULL
             THEN 'The stage has a cache cluster but no method caches responses.'
         ELSE 'Every method that caches responses encrypts the cached data.' END AS detail
FROM aws_apigateway_rest_api_stages AS s
LEFT JOIN aws_apigateway_rest_apis AS a ON a.arn = s.rest_api_arn
LEFT JOIN unencrypted AS u ON u.stage_arn = s.arn
LEFT JOIN caching AS c ON c.stage_arn = s.arn
WHERE COALESCE(s.cache_cluster_enabled, FALSE)
