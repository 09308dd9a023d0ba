WITH listeners AS (
    SELECT
        l.*,
        lower(COALESCE(l.default_actions->>'$[0].Type', '')) AS action_type,
        upper(COALESCE(l.default_actions->>'$[0].RedirectConfig.Protocol', '')) AS redirect_protocol,
        l.default_actions->>'$[0].RedirectConfig.Protocol' AS redirect_raw
    FROM aws_elbv2_listeners AS l
    WHERE upper(l.protocol) = 'HTTP'
)
SELECT
    l.arn AS resource_uid,
    split_part(l.arn, '/', 3) || ':' || COALESCE(CAST(l.port AS VARCHAR), '?') AS resource_name,
    l.account_id,
    l.region,
    l.tags,
    CASE WHEN l.action_type = 'redirect' AND l.redirect_protocol = 'HTTPS' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN l.action_type = 'redirect' AND l.redirect_protocol = 'HTTPS'
             THEN 'The HTTP listener redirects every request to HTTPS.'
         WHEN l.action_type = 'redirect'
             THEN 'The HTTP listener redirects, but to protocol ' || COALESCE(NULLIF(l.redirect_raw, ''), '(unchanged)') || ', not HTTPS.'
         ELSE 'The HTTP listener''s default action is ' || COALESCE(NULLIF(l.action_type, ''), 'not reported') || ', so requests are served over plain HTTP.' END AS detail
FROM listeners AS l
