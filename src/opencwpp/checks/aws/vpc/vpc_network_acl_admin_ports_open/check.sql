-- NACL entries are rows of cwpp_aws_ec2_network_acl_entries. Rules are evaluated in rule_number
-- order and the first match wins: an allow from a /0 range covering 22 or 3389 (TCP or all
-- protocols) is open unless a lower-numbered deny covers the same port and the same /0 family.
WITH ports AS (
    SELECT 22 AS port, 'SSH' AS service
    UNION ALL
    SELECT 3389, 'RDP'
),
admin AS (
    SELECT
        e.network_acl_arn,
        e.rule_number,
        lower(e.rule_action) AS action,
        p.port,
        p.service,
        CASE WHEN split_part(e.cidr_ipv4, '/', 2) = '0' THEN 'ipv4' ELSE 'ipv6' END AS family,
        COALESCE(e.cidr_ipv4, e.cidr_ipv6) AS cidr
    FROM cwpp_aws_ec2_network_acl_entries AS e
    CROSS JOIN ports AS p
    WHERE NOT e.egress
      AND (split_part(e.cidr_ipv4, '/', 2) = '0' OR split_part(e.cidr_ipv6, '/', 2) = '0')
      AND (
          lower(e.protocol) IN ('-1', 'all')
          OR (lower(e.protocol) IN ('6', 'tcp') AND e.from_port <= p.port AND e.to_port >= p.port)
      )
),
open_rules AS (
    SELECT
        a.network_acl_arn,
        string_agg(
            a.service || ' (' || CAST(a.port AS VARCHAR) || ') from ' || a.cidr || ' by rule ' || CAST(a.rule_number AS VARCHAR),
            ', ' ORDER BY a.port, a.family, a.rule_number
        ) AS labels
    FROM admin AS a
    WHERE a.action = 'allow'
      AND NOT EXISTS (
          SELECT 1
          FROM admin AS d
          WHERE d.network_acl_arn = a.network_acl_arn
            AND d.port = a.port
            AND d.family = a.family
            AND d.action = 'deny'
            AND d.rule_number < a.rule_number
      )
      AND NOT EXISTS (
          -- Only the first allow per port and family is reported.
          SELECT 1
          FROM admin AS b
          WHERE b.network_acl_arn = a.network_acl_arn
            AND b.port = a.port
            AND b.family = a.family
            AND b.rule_number < a.rule_number
      )
    GROUP BY a.network_acl_arn
)
SELECT
    n.arn AS resource_uid,
    COALESCE(n.tags->>'$.Name', n.network_acl_id) AS resource_name,
    n.account_id,
    n.region,
    n.tags,
    CASE WHEN o.network_acl_arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN o.network_acl_arn IS NOT NULL
             THEN 'The network ACL (VPC ' || COALESCE(n.vpc_id, 'unknown') || ') allows inbound administration ports from the whole internet, with no earlier deny: ' || o.labels || '.'
         ELSE 'No inbound rule of the network ACL lets SSH (22) or RDP (3389) in from the whole internet before a deny.'
    END AS detail
FROM aws_ec2_network_acls AS n
LEFT JOIN open_rules AS o ON o.network_acl_arn = n.arn
