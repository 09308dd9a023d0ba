WITH protected AS (
    SELECT
        lower(v.id) AS vm_id,
        string_agg(DISTINCT e.properties->>'$.type', ', ' ORDER BY e.properties->>'$.type') AS agents
    FROM azure_compute_virtual_machines AS v
    JOIN azure_compute_virtual_machine_extensions AS e
      ON substr(lower(e.id), 1, length(v.id) + 12) = lower(v.id) || '/extensions/'
    WHERE lower(e.properties->>'$.type') IN ('mde.windows', 'mde.linux', 'iaasantimalware')
      AND COALESCE(e.properties->>'$.provisioningState', 'Succeeded') = 'Succeeded'
    GROUP BY lower(v.id)
)
SELECT
    v.id AS resource_uid,
    v.name AS resource_name,
    v.subscription_id AS account_id,
    v.location AS region,
    v.tags,
    CASE WHEN p.vm_id IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.vm_id IS NULL
             THEN 'No endpoint protection extension (MDE.Windows, MDE.Linux, IaaSAntimalware) provisioned.'
         ELSE 'Endpoint protection extension(s): ' || p.agents || '.'
    END AS detail
FROM azure_compute_virtual_machines AS v
LEFT JOIN protected AS p ON p.vm_id = lower(v.id)
