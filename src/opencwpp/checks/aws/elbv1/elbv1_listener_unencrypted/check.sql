-- Listeners are rows of cwpp_aws_elbv1_listeners (one per load balancer port).
WITH plain AS (
    SELECT
        l.load_balancer_arn,
        string_agg(upper(l.protocol) || ':' || CAST(l.load_balancer_port AS VARCHAR), ', ' ORDER BY l.load_balancer_port) AS listeners
    FROM cwpp_aws_elbv1_listeners AS l
    WHERE upper(COALESCE(l.protocol, '')) NOT IN ('HTTPS', 'SSL')
    GROUP BY l.load_balancer_arn
),
counted AS (
    SELECT load_balancer_arn, count(*) AS n FROM cwpp_aws_elbv1_listeners GROUP BY load_balancer_arn
)
SELECT
    lb.arn AS resource_uid,
    lb.load_balancer_name AS resource_name,
    lb.account_id,
    lb.region,
    lb.tags,
    CASE WHEN p.load_balancer_arn IS NOT NULL OR c.load_balancer_arn IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.load_balancer_arn IS NOT NULL
             THEN 'Listener(s) without TLS termination: ' || p.listeners
                  || CASE WHEN lower(COALESCE(lb.scheme, '')) = 'internal' THEN ' (internal load balancer).' ELSE '.' END
         WHEN c.load_balancer_arn IS NULL
             THEN 'No listener was recorded for this load balancer.'
         ELSE 'Every listener terminates TLS (HTTPS or SSL).' END AS detail
FROM aws_elbv1_load_balancers AS lb
LEFT JOIN plain AS p ON p.load_balancer_arn = lb.arn
LEFT JOIN counted AS c ON c.load_balancer_arn = lb.arn
