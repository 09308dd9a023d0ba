SELECT
    lb.arn AS resource_uid,
    lb.load_balancer_name AS resource_name,
    lb.account_id,
    lb.region,
    lb.tags,
    CASE WHEN lower(COALESCE(lb.attributes->>'$.AccessLog.Enabled', '')) = 'true' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN lower(COALESCE(lb.attributes->>'$.AccessLog.Enabled', '')) = 'true'
             THEN 'Access logs go to S3 bucket ' || COALESCE(NULLIF(lb.attributes->>'$.AccessLog.S3BucketName', ''), '(not reported)') || '.'
         WHEN lb.attributes IS NULL OR lb.attributes->>'$.AccessLog.Enabled' IS NULL
             THEN 'The load balancer''s AccessLog attribute was not reported, so access logging is not known to be on.'
         ELSE 'Access logging is off.' END AS detail
FROM aws_elbv1_load_balancers AS lb
