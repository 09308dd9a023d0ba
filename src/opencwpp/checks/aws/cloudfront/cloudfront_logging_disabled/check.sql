SELECT
    d.arn AS resource_uid,
    COALESCE(d.domain_name, d.id) AS resource_name,
    d.account_id,
    '' AS region,
    d.tags,
    CASE WHEN lower(COALESCE(d.distribution_config->>'$.Logging.Enabled', '')) = 'true'
              AND NULLIF(d.distribution_config->>'$.Logging.Bucket', '') IS NOT NULL
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN lower(COALESCE(d.distribution_config->>'$.Logging.Enabled', '')) = 'true'
              AND NULLIF(d.distribution_config->>'$.Logging.Bucket', '') IS NOT NULL
             THEN 'Standard access logs go to ' || (d.distribution_config->>'$.Logging.Bucket') || '.'
         WHEN lower(COALESCE(d.distribution_config->>'$.Logging.Enabled', '')) = 'true'
             THEN 'Logging is marked enabled but no log bucket is configured.'
         ELSE 'Standard (legacy) access logging to S3 is off.' END AS detail
FROM aws_cloudfront_distributions AS d
