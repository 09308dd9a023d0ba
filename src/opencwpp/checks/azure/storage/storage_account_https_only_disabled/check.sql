SELECT
    a.id AS resource_uid,
    a.name AS resource_name,
    a.subscription_id AS account_id,
    a.location AS region,
    a.tags,
    CASE WHEN CAST(a.properties->>'$.supportsHttpsTrafficOnly' AS BOOLEAN) = FALSE
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN CAST(a.properties->>'$.supportsHttpsTrafficOnly' AS BOOLEAN) = FALSE
             THEN 'Secure transfer is not required: the account accepts requests over plain HTTP.'
         ELSE 'The account only accepts HTTPS requests.'
    END AS detail
FROM azure_storage_accounts AS a
