WITH setting AS (
    SELECT a.load_balancer_arn, max(lower(a.value)) AS value
    FROM aws_elbv2_load_balancer_attributes AS a
    WHERE a.key = 'routing.http.drop_invalid_header_fields.enabled'
    GROUP BY a.load_balancer_arn
)
SELECT
    lb.arn AS resource_uid,
    lb.load_balancer_name AS resource_name,
    lb.account_id,
    lb.region,
    lb.tags,
    CASE WHEN s.value = 'true' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.value = 'true' THEN 'Invalid HTTP header fields are dropped before requests reach the targets.'
         WHEN s.value IS NULL THEN 'The drop_invalid_header_fields attribute was not recorded; the default (false) forwards invalid headers.'
         ELSE 'Invalid HTTP header fields are forwarded to the targets (drop_invalid_header_fields = ' || s.value || ').' END AS detail
FROM aws_elbv2_load_balancers AS lb
LEFT JOIN setting AS s ON s.load_balancer_arn = lb.arn
WHERE lower(COALESCE(lb.type, '')) = 'application'
