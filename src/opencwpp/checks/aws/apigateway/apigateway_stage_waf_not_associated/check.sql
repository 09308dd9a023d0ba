SELECT
    s.arn AS resource_uid,
    COALESCE(a.name, a.id, s.rest_api_arn) || ' / ' || s.stage_name AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN NULLIF(s.web_acl_arn, '') IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN NULLIF(s.web_acl_arn, '') IS NULL
             THEN 'No AWS WAF web ACL is associated with the stage.'
         ELSE 'Web ACL ' || s.web_acl_arn || ' filters the stage''s requests.' END AS detail
FROM aws_apigateway_rest_api_stages AS s
LEFT JOIN aws_apigateway_rest_apis AS a ON a.arn = s.rest_api_arn
