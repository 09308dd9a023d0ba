-- Inbound Allow rules from the whole internet ('*', 'Internet', 'Any', any /0) that cover
-- PostgreSQL (port 5432), unless a Deny rule with a lower priority number (evaluated first)
-- covers the same ports and sources. Rules are rows of cwpp_azure_network_security_rules (one
-- per rule x source prefix x port range), custom and default rules alike.
WITH open_rules AS (
    SELECT
        r.nsg_id,
        COALESCE(r.rule_name, '?') || ' (priority ' || COALESCE(CAST(r.priority AS VARCHAR), '?')
            || ', ' || COALESCE(r.protocol, '*') || ' port ' || COALESCE(r.destination_port_range, '*')
            || ' from ' || r.source_prefix || ')' AS label
    FROM cwpp_azure_network_security_rules AS r
    WHERE lower(r.direction) = 'inbound'
      AND lower(r.access) = 'allow'
      AND lower(COALESCE(r.protocol, '*')) IN ('tcp', 'udp', '*')
      AND r.from_port <= 5432 AND r.to_port >= 5432
      AND (lower(trim(r.source_prefix)) IN ('*', 'internet', 'any', '0.0.0.0') OR split_part(r.source_prefix, '/', 2) = '0')
      AND NOT EXISTS (
          SELECT 1
          FROM cwpp_azure_network_security_rules AS d
          WHERE d.nsg_id = r.nsg_id
            AND lower(d.direction) = 'inbound'
            AND lower(d.access) = 'deny'
            AND d.priority < r.priority
            AND d.from_port <= 5432 AND d.to_port >= 5432
            AND (COALESCE(d.protocol, '*') = '*' OR lower(d.protocol) = lower(r.protocol))
            AND (lower(trim(d.source_prefix)) IN ('*', 'internet', 'any', '0.0.0.0') OR split_part(d.source_prefix, '/', 2) = '0')
      )
),
summary AS (
    SELECT nsg_id, string_agg(DISTINCT label, ', ' ORDER BY label) AS rules
    FROM open_rules
    GROUP BY nsg_id
)
SELECT
    g.id AS resource_uid,
    g.name AS resource_name,
    g.subscription_id AS account_id,
    g.location AS region,
    g.tags,
    CASE WHEN s.nsg_id IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.nsg_id IS NULL
             THEN 'No inbound rule allows PostgreSQL (port 5432) from the internet.'
         ELSE 'Inbound rule(s) allow PostgreSQL (port 5432) from the internet: ' || s.rules || '.'
    END AS detail
FROM azure_network_security_groups AS g
LEFT JOIN summary AS s ON s.nsg_id = g.id
