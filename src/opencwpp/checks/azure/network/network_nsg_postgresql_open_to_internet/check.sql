-- PostgreSQL (port 5432) reachable from the whole internet through an inbound Allow rule no
-- earlier Deny rule shadows: the judgement is the view cwpp_azure_nsg_internet_open_ports.
SELECT
    g.id AS resource_uid,
    g.name AS resource_name,
    g.subscription_id AS account_id,
    g.location AS region,
    g.tags,
    CASE WHEN v.nsg_id IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN v.nsg_id IS NULL
             THEN 'No inbound rule allows PostgreSQL (port 5432) from the internet.'
         ELSE 'Inbound rule(s) allow PostgreSQL (port 5432) from the internet: ' || v.rules || '.'
    END AS detail
FROM azure_network_security_groups AS g
LEFT JOIN cwpp_azure_nsg_internet_open_ports AS v
    ON v.nsg_id = g.id AND v.service = 'postgresql'
