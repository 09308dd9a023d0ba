-- Per network security group and watched service, the inbound Allow rules that let the whole
-- internet ('*', 'Internet', 'Any', any /0) reach the service's port over TCP, UDP or any
-- protocol, unless a Deny rule from the internet with a lower priority number (evaluated first)
-- covers the same port. Rules are rows of cwpp_azure_network_security_rules (one per rule x
-- source prefix x port range), custom and default rules alike. `all_ports` asks for every port.
WITH services (service, from_port, to_port) AS (
    VALUES
        ('ssh', 22, 22),
        ('rdp', 3389, 3389),
        ('mssql', 1433, 1433),
        ('mysql', 3306, 3306),
        ('postgresql', 5432, 5432),
        ('oracle', 1521, 1521),
        ('mongodb', 27017, 27017),
        ('redis', 6379, 6379),
        ('all_ports', 1, 65535)
),
internet AS (
    SELECT
        r.nsg_id,
        r.rule_name,
        r.priority,
        r.protocol,
        r.destination_port_range,
        r.source_prefix,
        r.from_port,
        r.to_port,
        lower(r.access) AS verdict
    FROM cwpp_azure_network_security_rules AS r
    WHERE lower(r.direction) = 'inbound'
      AND (lower(trim(r.source_prefix)) IN ('*', 'internet', 'any', '0.0.0.0')
           OR split_part(r.source_prefix, '/', 2) = '0')
),
open_rules AS (
    SELECT
        s.service,
        a.nsg_id,
        COALESCE(a.rule_name, '?') || ' (priority ' || COALESCE(CAST(a.priority AS VARCHAR), '?')
            || ', ' || COALESCE(a.protocol, '*') || ' port ' || COALESCE(a.destination_port_range, '*')
            || ' from ' || a.source_prefix || ')' AS label
    FROM services AS s
    JOIN internet AS a
      ON a.verdict = 'allow'
     AND lower(COALESCE(a.protocol, '*')) IN ('tcp', 'udp', '*')
     AND a.from_port <= s.from_port AND a.to_port >= s.to_port
    WHERE NOT EXISTS (
        SELECT 1
        FROM internet AS d
        WHERE d.nsg_id = a.nsg_id
          AND d.verdict = 'deny'
          AND d.priority < a.priority
          AND d.from_port <= s.from_port AND d.to_port >= s.to_port
          AND (COALESCE(d.protocol, '*') = '*' OR lower(d.protocol) = lower(a.protocol))
    )
)
SELECT service, nsg_id, string_agg(DISTINCT label, ', ' ORDER BY label) AS rules
FROM open_rules
GROUP BY service, nsg_id
