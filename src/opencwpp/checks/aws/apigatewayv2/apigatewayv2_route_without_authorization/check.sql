-- WebSocket APIs authorize once, on the $connect route; their other routes are not judged.
-- HTTP API CORS preflight routes (OPTIONS ...) are unauthenticated by design.
SELECT
    r.arn AS resource_uid,
    COALESCE(a.name, r.api_id) || ' ' || r.route_key AS resource_name,
    r.account_id,
    r.region,
    a.tags,
    CASE WHEN upper(COALESCE(r.authorization_type, 'NONE')) = 'NONE' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN upper(COALESCE(r.authorization_type, 'NONE')) = 'NONE'
             THEN 'Route ' || r.route_key || ' has no authorization type'
                  || CASE WHEN COALESCE(r.api_key_required, FALSE) THEN ' (only an API key, which identifies but does not authorize callers).'
                          ELSE ': anyone can call it.' END
         ELSE 'Route ' || r.route_key || ' requires ' || r.authorization_type || ' authorization.' END AS detail
FROM aws_apigatewayv2_api_routes AS r
LEFT JOIN aws_apigatewayv2_apis AS a ON a.arn = r.api_arn
WHERE CASE WHEN upper(COALESCE(a.protocol_type, '')) = 'WEBSOCKET' THEN r.route_key = '$connect'
           ELSE upper(COALESCE(r.route_key, '')) NOT LIKE 'OPTIONS %' ESCAPE '\' END
