-- An instance's groups are rows of cwpp_aws_ec2_instance_security_groups (instance level and per
-- network interface); their rules are rows of cwpp_aws_ec2_security_group_rules. An IPv4 /0
-- rule exposes a public IPv4 address, an IPv6 /0 rule an IPv6 address.
WITH exposed AS (
    SELECT DISTINCT
        i.arn,
        g.group_id || ' ' || CASE WHEN lower(r.ip_protocol) IN ('-1', 'all') THEN 'all traffic'
             ELSE CASE WHEN lower(r.ip_protocol) IN ('tcp', '6') THEN 'tcp'
                       WHEN lower(r.ip_protocol) IN ('udp', '17') THEN 'udp'
                       ELSE r.ip_protocol END
                  || COALESCE(' ' || CAST(r.from_port AS VARCHAR)
                     || CASE WHEN r.to_port <> r.from_port THEN '-' || CAST(r.to_port AS VARCHAR) ELSE '' END, '')
        END || ' from ' || COALESCE(r.cidr_ipv4, r.cidr_ipv6) AS label
    FROM aws_ec2_instances AS i
    JOIN cwpp_aws_ec2_instance_security_groups AS g ON g.instance_arn = i.arn
    JOIN cwpp_aws_ec2_security_group_rules AS r
      ON r.group_id = g.group_id AND r.account_id = g.account_id AND r.region = g.region
    WHERE r.direction = 'ingress'
      AND (
          (NULLIF(i.public_ip_address, '') IS NOT NULL AND split_part(r.cidr_ipv4, '/', 2) = '0')
          OR (NULLIF(i.ipv6_address, '') IS NOT NULL AND split_part(r.cidr_ipv6, '/', 2) = '0')
      )
),
per_instance AS (
    SELECT arn, string_agg(label, ', ' ORDER BY label) AS labels
    FROM exposed
    GROUP BY arn
)
SELECT
    i.arn AS resource_uid,
    COALESCE(i.tags->>'$.Name', i.instance_id) AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN p.arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.arn IS NOT NULL
             THEN 'The instance has a public address (' || COALESCE(NULLIF(i.public_ip_address, ''), i.ipv6_address)
                  || ') and its security group(s) allow inbound traffic from the whole internet: ' || p.labels || '.'
         WHEN NULLIF(i.public_ip_address, '') IS NULL AND NULLIF(i.ipv6_address, '') IS NULL
             THEN 'The instance has no public IPv4 or IPv6 address.'
         ELSE 'The instance has a public address, but no security group rule allows inbound traffic to it from the whole internet.'
    END AS detail
FROM aws_ec2_instances AS i
LEFT JOIN per_instance AS p ON p.arn = i.arn
