-- An instance's VPC security groups are rows of cwpp_aws_rds_instance_security_groups; their
-- rules are rows of cwpp_aws_ec2_security_group_rules. The port is the endpoint's (or
-- DbInstancePort); when neither is known, any /0 rule counts.
WITH instances AS (
    SELECT
        arn,
        COALESCE(CAST(endpoint->>'$.Port' AS BIGINT), NULLIF(db_instance_port, 0)) AS port
    FROM aws_rds_instances
    WHERE publicly_accessible
),
exposed AS (
    SELECT DISTINCT
        i.arn,
        g.group_id || ' ' || CASE WHEN lower(r.ip_protocol) IN ('-1', 'all') THEN 'all traffic'
             ELSE 'tcp ' || CAST(r.from_port AS VARCHAR)
                  || CASE WHEN r.to_port <> r.from_port THEN '-' || CAST(r.to_port AS VARCHAR) ELSE '' END
        END || ' from ' || COALESCE(r.cidr_ipv4, r.cidr_ipv6) AS label
    FROM instances AS i
    JOIN cwpp_aws_rds_instance_security_groups AS g ON g.db_instance_arn = i.arn
    JOIN cwpp_aws_ec2_security_group_rules AS r
      ON r.group_id = g.group_id AND r.account_id = g.account_id AND r.region = g.region
    WHERE r.direction = 'ingress'
      AND (g.status IS NULL OR lower(g.status) IN ('active', 'adding'))
      AND (split_part(r.cidr_ipv4, '/', 2) = '0' OR split_part(r.cidr_ipv6, '/', 2) = '0')
      AND (
          lower(r.ip_protocol) IN ('-1', 'all')
          OR (lower(r.ip_protocol) IN ('tcp', '6')
              AND (i.port IS NULL OR (r.from_port <= i.port AND r.to_port >= i.port)))
      )
),
per_instance AS (
    SELECT arn, string_agg(label, ', ' ORDER BY label) AS labels
    FROM exposed
    GROUP BY arn
)
SELECT
    d.arn AS resource_uid,
    d.db_instance_identifier AS resource_name,
    d.account_id,
    d.region,
    d.tags,
    CASE WHEN p.arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.arn IS NOT NULL
             THEN 'The DB instance is publicly accessible and its security group(s) allow its port'
                  || COALESCE(' (' || CAST(i.port AS VARCHAR) || ')', '')
                  || ' from the whole internet: ' || p.labels || '.'
         WHEN COALESCE(d.publicly_accessible, FALSE)
             THEN 'The DB instance is publicly accessible, but no security group rule opens its port to the whole internet.'
         ELSE 'The DB instance is not publicly accessible.'
    END AS detail
FROM aws_rds_instances AS d
LEFT JOIN instances AS i ON i.arn = d.arn
LEFT JOIN per_instance AS p ON p.arn = d.arn
