SELECT
    a.id AS resource_uid,
    a.name AS resource_name,
    a.subscription_id AS account_id,
    a.location AS region,
    a.tags,
    CASE WHEN CAST(a.properties->>'$.encryption.requireInfrastructureEncryption' AS BOOLEAN)
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN CAST(a.properties->>'$.encryption.requireInfrastructureEncryption' AS BOOLEAN)
             THEN 'Data at rest is encrypted at both the service and the infrastructure level.'
         ELSE 'Infrastructure encryption is off: data at rest is encrypted once.'
    END AS detail
FROM azure_storage_accounts AS a
