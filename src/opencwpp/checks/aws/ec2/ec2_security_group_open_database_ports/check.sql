-- Which rules open a group to the whole internet is judged once, in the shared view.
WITH db_ports AS (
    SELECT * FROM (VALUES
        (3306, 'MySQL'), (5432, 'PostgreSQL'), (1433, 'SQL Server'), (1521, 'Oracle'),
        (27017, 'MongoDB'), (6379, 'Redis'), (9200, 'Elasticsearch')
    ) AS p(port, engine)
),
offending AS (
    SELECT
        o.group_arn,
        string_agg(DISTINCT CAST(p.port AS VARCHAR) || ' ' || p.engine, ', ' ORDER BY CAST(p.port AS VARCHAR) || ' ' || p.engine) AS ports,
        string_agg(DISTINCT o.label, ', ' ORDER BY o.label) AS labels
    FROM cwpp_aws_ec2_internet_ingress_rules AS o
    JOIN db_ports AS p
      ON o.protocol = 'all'
      OR (o.protocol = 'tcp' AND o.from_port <= p.port AND o.to_port >= p.port)
    GROUP BY o.group_arn
)
SELECT
    g.arn AS resource_uid,
    g.group_name AS resource_name,
    g.account_id,
    g.region,
    g.tags,
    CASE WHEN o.group_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN o.group_arn IS NULL THEN 'No inbound rule opens a common database port to the whole internet.'
         ELSE 'Database port(s) ' || o.ports || ' open to the whole internet through: ' || o.labels || '.' END AS detail
FROM aws_ec2_security_groups AS g
LEFT JOIN offending AS o ON o.group_arn = g.arn
