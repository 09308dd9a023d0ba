-- Inbound security-group rules open to the whole internet (any /0, IPv4 or IPv6), one row per
-- rule, with the protocol normalised (`tcp`, `udp`, or `all` for -1) and a readable label.
-- Shared by the checks that ask which ports a group opens to everyone.
SELECT
    r.group_arn,
    CASE WHEN lower(r.ip_protocol) IN ('-1', 'all') THEN 'all'
         WHEN lower(r.ip_protocol) IN ('tcp', '6') THEN 'tcp'
         WHEN lower(r.ip_protocol) IN ('udp', '17') THEN 'udp'
         ELSE lower(r.ip_protocol) END AS protocol,
    r.from_port,
    r.to_port,
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
