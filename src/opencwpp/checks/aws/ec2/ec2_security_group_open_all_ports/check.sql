WITH open_rules AS (
    SELECT
        r.group_arn,
        r.ip_protocol,
        r.from_port,
        r.to_port,
        lower(r.ip_protocol) IN ('-1', 'all') AS all_protocols,
        CASE WHEN lower(r.ip_protocol) IN ('-1', 'all') THEN 'all traffic'
             ELSE CASE WHEN lower(r.ip_protocol) IN ('tcp', '6') THEN 'tcp'
                       WHEN lower(r.ip_protocol) IN ('udp', '17') THEN 'udp'
                       ELSE r.ip_protocol END
                  || ' ' || CAST(r.from_port AS VARCHAR)
                  || CASE WHEN r.to_port <> r.from_port THEN '-' || CAST(r.to_port AS VARCHAR) ELSE '' END
        END || ' from ' || CASE WHEN split_part(r.cidr_ipv4, '/', 2) = '0' THEN r.cidr_ipv4 || ' (IPv4)'
                              ELSE r.cidr_ipv6 || ' (IPv6)' END AS label,
        CASE WHEN split_part(r.cidr_ipv4, '/', 2) = '0' THEN 'IPv4' ELSE 'IPv6' END AS family
    FROM cwpp_aws_ec2_security_group_rules AS r
    WHERE r.direction = 'ingress'
      AND (split_part(r.cidr_ipv4, '/', 2) = '0' OR split_part(r.cidr_ipv6, '/', 2) = '0')
),
offending AS (
    SELECT
        group_arn,
        string_agg(DISTINCT label, ', ' ORDER BY label) AS labels,
        string_agg(DISTINCT family, ' and ' ORDER BY family) AS families
    FROM open_rules
    WHERE all_protocols
       OR (lower(ip_protocol) IN ('tcp', '6', 'udp', '17') AND from_port <= 1 AND to_port >= 65535)
    GROUP BY group_arn
)
SELECT
    g.arn AS resource_uid,
    g.group_name AS resource_name,
    g.account_id,
    g.region,
    g.tags,
    CASE WHEN o.group_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN o.group_arn IS NULL THEN 'No inbound rule opens all traffic or all ports to the whole internet (IPv4 0.0.0.0/0 or IPv6 ::/0).'
         ELSE 'Inbound rule(s) open all traffic or all ports to the whole internet over ' || o.families || ': ' || o.labels || '.' END AS detail
FROM aws_ec2_security_groups AS g
LEFT JOIN offending AS o ON o.group_arn = g.arn
