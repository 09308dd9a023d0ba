WITH tls_listeners AS (
    SELECT DISTINCT load_balancer_arn
    FROM aws_elbv2_listeners
    WHERE upper(protocol) = 'TLS'
),
judged AS (
    -- Access logs exist for application load balancers, and for network load balancers only for
    -- their TLS listeners; gateway load balancers have none.
    SELECT
        lb.arn, lb.load_balancer_name, lb.account_id, lb.region, lb.tags, lower(lb.type) AS lb_type,
        lower(a.value) AS enabled,
        b.value AS bucket
    FROM aws_elbv2_load_balancers AS lb
    LEFT JOIN tls_listeners AS t ON t.load_balancer_arn = lb.arn
    LEFT JOIN aws_elbv2_load_balancer_attributes AS a
        ON a.load_balancer_arn = lb.arn AND a.key = 'access_logs.s3.enabled'
    LEFT JOIN aws_elbv2_load_balancer_attributes AS b
        ON b.load_balancer_arn = lb.arn AND b.key = 'access_logs.s3.bucket'
    WHERE lower(lb.type) = 'application'
       OR (lower(lb.type) = 'network' AND t.load_balancer_arn IS NOT NULL)
)
SELECT
    arn AS resource_uid,
    load_balancer_name AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN enabled = 'true' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN enabled = 'true'
             THEN 'Access logs go to S3 bucket ' || COALESCE(NULLIF(bucket, ''), '(not reported)') || '.'
         WHEN enabled IS NULL
             THEN 'The load balancer''s access_logs.s3.enabled attribute was not reported, so access logging is not known to be on.'
         ELSE 'Access logging is off (access_logs.s3.enabled = false)'
              || CASE WHEN lb_type = 'network' THEN ' for this network load balancer''s TLS listeners' ELSE '' END
              || '.'
    END AS detail
FROM judged
