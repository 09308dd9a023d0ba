SELECT
    v.id AS resource_uid,
    v.name AS resource_name,
    v.subscription_id AS account_id,
    v.location AS region,
    v.tags,
    CASE WHEN COALESCE(v.properties->>'$.securityProfile.encryptionAtHost', 'false') = 'true'
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN COALESCE(v.properties->>'$.securityProfile.encryptionAtHost', 'false') = 'true'
             THEN 'Encryption at host is enabled.'
         ELSE 'Encryption at host is not enabled: temp disk and caches are not encrypted on the host.'
    END AS detail
FROM azure_compute_virtual_machines AS v
