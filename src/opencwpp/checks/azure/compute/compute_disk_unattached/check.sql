SELECT
    d.id AS resource_uid,
    d.name AS resource_name,
    d.subscription_id AS account_id,
    d.location AS region,
    d.tags,
    CASE WHEN d.properties->>'$.diskState' = 'Unattached' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN d.properties->>'$.diskState' = 'Unattached'
             THEN 'The disk is attached to no virtual machine.'
         ELSE 'Disk state ' || COALESCE(d.properties->>'$.diskState', 'unknown') || '.'
    END AS detail
FROM azure_compute_disks AS d
