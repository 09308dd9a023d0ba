WITH rule_counts AS (
    SELECT
        group_arn,
        count(*) FILTER (WHERE direction = 'ingress') AS inbound,
        count(*) FILTER (WHERE direction = 'egress') AS outbound
    FROM cwpp_aws_ec2_security_group_rules
    GROUP BY group_arn
)
SELECT
    g.arn AS resource_uid,
    g.group_name || ' (' || COALESCE(g.vpc_id, g.group_id) || ')' AS resource_name,
    g.account_id,
    g.region,
    g.tags,
    CASE WHEN COALESCE(r.inbound, 0) + COALESCE(r.outbound, 0) > 0 THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(r.inbound, 0) + COALESCE(r.outbound, 0) > 0
         THEN 'The default security group has ' || CAST(COALESCE(r.inbound, 0) AS VARCHAR) || ' inbound and '
              || CAST(COALESCE(r.outbound, 0) AS VARCHAR) || ' outbound rule(s).'
         ELSE 'The default security group has no rules.' END AS detail
FROM aws_ec2_security_groups AS g
LEFT JOIN rule_counts AS r ON r.group_arn = g.arn
WHERE g.group_name = 'default'
