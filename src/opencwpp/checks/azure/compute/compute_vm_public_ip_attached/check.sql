-- A NIC names its VM (properties.virtualMachine.id); its IP configurations are child rows whose
-- ids start with the NIC's id.
WITH public_nics AS (
    SELECT
        lower(n.properties->>'$.virtualMachine.id') AS vm_id,
        string_agg(DISTINCT n.name || '/' || c.name, ', ' ORDER BY n.name || '/' || c.name) AS configs
    FROM azure_network_interfaces AS n
    JOIN azure_network_interface_ip_configurations AS c
      ON substr(lower(c.id), 1, length(n.id) + 18) = lower(n.id) || '/ipconfigurations/'
    WHERE c.properties->>'$.publicIPAddress.id' IS NOT NULL
      AND n.properties->>'$.virtualMachine.id' IS NOT NULL
    GROUP BY lower(n.properties->>'$.virtualMachine.id')
)
SELECT
    v.id AS resource_uid,
    v.name AS resource_name,
    v.subscription_id AS account_id,
    v.location AS region,
    v.tags,
    CASE WHEN p.vm_id IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.vm_id IS NULL THEN 'No network interface of the VM has a public IP address.'
         ELSE 'Public IP address on: ' || p.configs || '.'
    END AS detail
FROM azure_compute_virtual_machines AS v
LEFT JOIN public_nics AS p ON p.vm_id = lower(v.id)
