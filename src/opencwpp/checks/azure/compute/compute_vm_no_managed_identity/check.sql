SELECT
    v.id AS resource_uid,
    v.name AS resource_name,
    v.subscription_id AS account_id,
    v.location AS region,
    v.tags,
    CASE WHEN COALESCE(v.identity->>'$.type', 'None') = 'None' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(v.identity->>'$.type', 'None') = 'None'
             THEN 'The VM has no managed identity.'
         ELSE 'Managed identity: ' || (v.identity->>'$.type') || '.'
    END AS detail
FROM azure_compute_virtual_machines AS v
