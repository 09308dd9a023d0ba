-- Which rules open a group to the whole internet is judged once, in the shared view.
WITH offending AS (
    SELECT
        group_arn,
        string_agg(DISTINCT label, ', ' ORDER BY label) AS labels,
        string_agg(DISTINCT family, ' and ' ORDER BY family) AS families
    FROM cwpp_aws_ec2_internet_ingress_rules
    WHERE protocol = 'all'
       OR (protocol IN ('tcp', 'udp') AND from_port <= 445 AND to_port >= 445)
    GROUP BY group_arn
)
SELECT
    g.arn AS resource_uid,
    g.group_name AS resource_name,
    g.account_id,
    g.region,
    g.tags,
    CASE WHEN o.group_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN o.group_arn IS NULL THEN 'No inbound rule opens port 445 (SMB/CIFS) to the whole internet (IPv4 0.0.0.0/0 or IPv6 ::/0).'
         ELSE 'Inbound rule(s) open port 445 (SMB/CIFS) to the whole internet over ' || o.families || ': ' || o.labels || '.' END AS detail
FROM aws_ec2_security_groups AS g
LEFT JOIN offending AS o ON o.group_arn = g.arn
