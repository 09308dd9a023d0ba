SELECT
    s.arn AS resource_uid,
    COALESCE(a.name, s.api_id) || ' / ' || s.stage_name AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN NULLIF(s.access_log_settings->>'$.DestinationArn', '') IS NOT NULL
              AND NULLIF(s.access_log_settings->>'$.Format', '') IS NOT NULL
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN NULLIF(s.access_log_settings->>'$.DestinationArn', '') IS NULL
             THEN 'No access log destination is set for the stage.'
         WHEN NULLIF(s.access_log_settings->>'$.Format', '') IS NULL
             THEN 'An access log destination is set but no log format, so nothing is written.'
         ELSE 'Access logs go to ' || (s.access_log_settings->>'$.DestinationArn') || '.' END AS detail
FROM aws_apigatewayv2_api_stages AS s
LEFT JOIN aws_apigatewayv2_apis AS a ON a.arn = s.api_arn
