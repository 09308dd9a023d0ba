-- Non-default rules of HTTP listeners; the default action is judged by
-- elbv2_listener_http_redirects_to_https. A rule's first action decides (forward,
-- fixed-response, redirect); HTTP listeners take no authenticate actions.
WITH rules AS (
    SELECT
        r.*,
        l.port,
        lower(COALESCE(r.actions->>'$[0].Type', '')) AS action_type,
        upper(COALESCE(r.actions->>'$[0].RedirectConfig.Protocol', '')) AS redirect_protocol,
        r.actions->>'$[0].RedirectConfig.Protocol' AS redirect_raw
    FROM aws_elbv2_listener_rules AS r
    JOIN aws_elbv2_listeners AS l ON l.arn = r.listener_arn
    WHERE upper(l.protocol) = 'HTTP'
      AND NOT COALESCE(r.is_default, FALSE)
)
SELECT
    r.arn AS resource_uid,
    split_part(r.arn, '/', 3) || ':' || COALESCE(CAST(r.port AS VARCHAR), '?') || ' rule ' || COALESCE(r.priority, '?') AS resource_name,
    r.account_id,
    r.region,
    NULL AS tags,
    CASE WHEN r.action_type = 'redirect' AND r.redirect_protocol = 'HTTPS' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN r.action_type = 'redirect' AND r.redirect_protocol = 'HTTPS'
             THEN 'The rule redirects matching HTTP requests to HTTPS.'
         WHEN r.action_type = 'redirect'
             THEN 'The rule redirects, but to protocol ' || COALESCE(NULLIF(r.redirect_raw, ''), '(unchanged)') || ', not HTTPS.'
         ELSE 'The rule''s action is ' || COALESCE(NULLIF(r.action_type, ''), 'not reported') || ', so matching requests are served over plain HTTP.' END AS detail
FROM rules AS r
