-- Method settings are rows: '*/*' is the stage-wide setting, other paths override one method.
-- A method without a setting inherits '*/*'; no '*/*' row means the default, OFF.
WITH settings AS (
    SELECT
        m.stage_arn,
        max(CASE WHEN m.method_path = '*/*' THEN upper(COALESCE(m.logging_level, 'OFF')) END) AS stage_level,
        string_agg(
            CASE WHEN m.method_path <> '*/*' AND upper(COALESCE(m.logging_level, 'OFF')) NOT IN ('ERROR', 'INFO')
                 THEN m.method_path END,
            ', ' ORDER BY m.method_path
        ) AS off_methods
    FROM cwpp_aws_apigateway_rest_api_stage_method_settings AS m
    GROUP BY m.stage_arn
)
SELECT
    s.arn AS resource_uid,
    COALESCE(a.name, a.id, s.rest_api_arn) || ' / ' || s.stage_name AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN COALESCE(m.stage_level, 'OFF') IN ('ERROR', 'INFO') AND m.off_methods IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN COALESCE(m.stage_level, 'OFF') NOT IN ('ERROR', 'INFO')
             THEN 'Execution logging of the stage is ' || COALESCE(m.stage_level, 'OFF (no stage-wide method setting)') || '.'
                  || CASE WHEN m.off_methods IS NOT NULL THEN ' Methods overriding it without logging: ' || m.off_methods || '.' ELSE '' END
         WHEN m.off_methods IS NOT NULL
             THEN 'Execution logging is ' || m.stage_level || ' for the stage but off for: ' || m.off_methods || '.'
         ELSE 'Execution logging is ' || m.stage_level || ' for every method of the stage.' END AS detail
FROM aws_apigateway_rest_api_stages AS s
LEFT JOIN aws_apigateway_rest_apis AS a ON a.arn = s.rest_api_arn
LEFT JOIN settings AS m ON m.stage_arn = s.arn
