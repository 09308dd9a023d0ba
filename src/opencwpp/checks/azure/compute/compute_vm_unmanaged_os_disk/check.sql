SELECT
    v.id AS resource_uid,
    v.name AS resource_name,
    v.subscription_id AS account_id,
    v.location AS region,
    v.tags,
    CASE WHEN v.properties->>'$.storageProfile.osDisk.vhd.uri' IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN v.properties->>'$.storageProfile.osDisk.vhd.uri' IS NOT NULL
             THEN 'The OS disk is an unmanaged VHD in a storage account.'
         ELSE 'The OS disk is a managed disk.'
    END AS detail
FROM azure_compute_virtual_machines AS v
