SELECT
    v.id AS resource_uid,
    v.name AS resource_name,
    v.subscription_id AS account_id,
    v.location AS region,
    v.tags,
    CASE WHEN CAST(v.properties->>'$.enableRbacAuthorization' AS BOOLEAN)
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN CAST(v.properties->>'$.enableRbacAuthorization' AS BOOLEAN)
             THEN 'Access is granted through Azure role assignments.'
         ELSE 'Access is granted through vault access policies.'
    END AS detail
FROM azure_keyvault_keyvaults AS v
