SELECT
    d.arn AS resource_uid,
    COALESCE(d.domain_name, d.id) AS resource_name,
    d.account_id,
    '' AS region,
    d.tags,
    CASE WHEN NULLIF(d.distribution_config->>'$.WebACLId', '') IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN NULLIF(d.distribution_config->>'$.WebACLId', '') IS NULL
             THEN 'No AWS WAF web ACL is associated with the distribution.'
         ELSE 'Web ACL ' || (d.distribution_config->>'$.WebACLId') || ' filters the distribution''s requests.' END AS detail
FROM aws_cloudfront_distributions AS d
